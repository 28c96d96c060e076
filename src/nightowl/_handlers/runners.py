"""Runners: the coroutine that answers one route, built at startup from its plan.

Per request, in order: solve the parameters, call the handler, run the request's
``after_handler`` hooks, render the result, run its ``before_response`` hooks, send,
then clean up (background tasks, the code after ``yield`` in generator dependencies).

The common shapes (no dependencies, no body) get a specialised runner with nothing but
lookups, the validators built at startup, the call and the send; its errors go up to
the app. The planned runner turns its own errors into responses, through the same
:meth:`~nightowl._errors.ExceptionHandlers.send`, because its generator dependencies
must see them first: an error is thrown into them before the error response is made,
and one may answer another (``except OwnerError: raise HTTPException(400)``). Their
exits otherwise run after the response, or, for ``Depends(scope="function")``, as soon
as the handler returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from nightowl._concurrency import run_in_threadpool
from nightowl._errors import ExceptionHandlers
from nightowl._handlers.dependant import SpecialKind
from nightowl._handlers.plan import Plan, RequestContext
from nightowl._handlers.readers import body_of
from nightowl._handlers.sending import Responder, send_json
from nightowl.exceptions import RequestValidationError
from nightowl.requests import Request
from nightowl.types import Send

__all__ = ["HandlerRunner", "Runner", "WebSocketRunner", "http_runner", "websocket_runner"]

#: Answers one HTTP request: ``await runner(request, send)``.
Runner = Callable[[Request, Send], Awaitable[None]]
#: Answers one WebSocket connection: ``await runner(websocket)``.
WebSocketRunner = Callable[[Any], Awaitable[None]]
#: How a provider wants the ``async def`` handlers that use it awaited (``app.provide``).
HandlerRunner = Callable[[Coroutine[Any, Any, Any]], Awaitable[Any]]
Overrides = Mapping[Callable[..., Any], Callable[..., Any]]


def http_runner(
    plan: Plan,
    responder: Responder,
    errors: ExceptionHandlers,
    overrides: Overrides,
    handler_runners: Mapping[Callable[..., Any], HandlerRunner] = {},
) -> Runner:
    """The runner for a route's ``plan``; ``handler_runners`` maps providers to their
    handler runner."""
    direct = (
        not plan.dependencies
        and not plan.is_generator
        and not plan.is_async_generator
        and all(kind is SpecialKind.REQUEST for _, kind in plan.specials)
    )
    if direct:
        return _direct_runner(plan, responder)
    invoke = _invoker(plan, handler_runners)

    async def run(request: Request, send: Send) -> None:
        context = RequestContext(overrides)
        error: BaseException | None = None
        try:
            try:
                values = await plan.solve(request, context)
                plan.check(context, request)
                result = await invoke(values, context)
                if context.exits:
                    raised = await context.close_function_scoped()
                    if raised is not None:
                        raise raised
                outgoing = await responder.prepare(request, result, context.response)
            except Exception as exc:
                error = exc
                if context.exits:
                    # Generator dependencies see the error first, and may answer another.
                    error = await context.close(exc)
                await errors.send(request, send, error or exc)
            else:
                # A failure while sending is the app's to answer; it is no error of the handler's.
                await responder.send(request, send, outgoing)
            if context.background is not None:
                await context.background()
        finally:
            if context.exits:
                await context.close(error)

    return run


def _invoker(
    plan: Plan, handler_runners: Mapping[Callable[..., Any], HandlerRunner]
) -> Callable[[dict[str, Any], RequestContext], Awaitable[Any]]:
    """``plan.invoke``, or, for an ``async def`` handler taking a value whose provider has a
    runner, the handler's coroutine awaited through that runner."""
    if not plan.is_async or plan.is_async_generator:
        return plan.invoke
    runner = next(
        (
            handler_runners[dependency.call]
            for _, dependency, _ in plan.dependencies
            if dependency.call in handler_runners
        ),
        None,
    )
    if runner is None:
        return plan.invoke
    call = plan.call

    async def invoke(values: dict[str, Any], _context: RequestContext) -> Any:
        return await runner(call(**values))

    return invoke


def _direct_runner(plan: Plan, responder: Responder) -> Runner:
    """A runner for handlers that need nothing but the request: no dependencies, no context."""
    call = plan.call
    is_async = plan.is_async
    read_body = plan.body.read if plan.body is not None else None
    scalars = plan.scalars if plan.scalars else None
    request_names = [name for name, _ in plan.specials]
    takes_arguments = read_body is not None or scalars is not None or bool(request_names)
    json_body = responder.json_body
    status_code = responder.status_code
    respond = responder.respond

    async def run_direct(request: Request, send: Send) -> None:
        if takes_arguments:
            values: dict[str, Any] = {}
            errors_found: list[dict[str, Any]] = []
            if read_body is not None:
                await read_body(request, values, errors_found)
            if scalars is not None:
                scalars.read(request, values, errors_found)
            if errors_found:
                raise RequestValidationError(errors_found, body=body_of(request))
            for name in request_names:
                values[name] = request
            result = await call(**values) if is_async else await run_in_threadpool(call, **values)
        else:
            result = await call() if is_async else await run_in_threadpool(call)
        if request._after_handler is None and request._before_response is None:
            # Responder.respond's fast path, here to spare the common case a coroutine.
            body = json_body(result)
            if body is not None:
                await send_json(request.scope, send, status_code, body)
                return
        await respond(request, send, result)

    return run_direct


def websocket_runner(plan: Plan, overrides: Overrides) -> WebSocketRunner:
    """The runner for a WebSocket route: solve the plan, call, always clean up."""

    async def run(websocket: Any) -> None:
        context = RequestContext(overrides)
        error: BaseException | None = None
        try:
            values = await plan.solve(websocket, context)
            if context.errors:
                await websocket.close(1008, "Invalid parameters.")
                return
            await plan.invoke(values, context)
        except BaseException as exc:
            error = exc
            raise
        finally:
            if context.exits:
                await context.close(error)

    return run
