"""Compiled plans: run a handler with everything its signature asked for.

A :class:`Plan` is built once per handler (and per dependency) from a
:class:`~nightowl._handlers.dependant.Dependant`. Per request, :meth:`Plan.solve` looks
values up, validates them with validators built at startup, runs dependencies (once
each, cached per request) and calls the function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from nightowl._concurrency import run_in_threadpool
from nightowl._handlers.dependant import Dependant, SpecialKind, callable_name
from nightowl._handlers.readers import BodyReader, Errors, ScalarReader, body_of
from nightowl.background import BackgroundTasks
from nightowl.exceptions import RequestValidationError
from nightowl.params import SecurityScopes
from nightowl.requests import Request
from nightowl.responses import Response

__all__ = ["Plan", "RequestContext"]

logger = logging.getLogger("nightowl.error")


class RequestContext:
    """Per-request state of dependency resolution."""

    __slots__ = ("background", "body_values", "cache", "errors", "exits", "overrides", "response")

    def __init__(self, overrides: Mapping[Callable[..., Any], Callable[..., Any]]) -> None:
        self.cache: dict[Callable[..., Any], Any] = {}
        #: ``(generator, is_async, function_scope)`` of each generator dependency entered.
        self.exits: list[tuple[Any, bool, bool]] = []
        self.errors: Errors = []
        self.body_values: dict[str, Any] = {}
        self.background: BackgroundTasks | None = None
        self.response: Response | None = None
        self.overrides = overrides

    def special(self, kind: SpecialKind, request: Request) -> Any:
        """The value of a parameter filled from the connection (``Request``, ``BackgroundTasks``...)."""
        if kind is SpecialKind.REQUEST or kind is SpecialKind.WEBSOCKET:
            return request
        if kind is SpecialKind.BACKGROUND:
            if self.background is None:
                self.background = BackgroundTasks()
            return self.background
        if self.response is None:
            # A placeholder whose headers, cookies and status are copied onto the real response.
            self.response = Response(status_code=0)
        return self.response

    async def close(self, exc: BaseException | None) -> BaseException | None:
        """Finish generator dependencies, innermost first, throwing ``exc`` into them.

        Returns the exception to answer with: ``exc``, or the one a dependency raised
        instead (``except OwnerError: raise HTTPException(400)``). After a response was
        sent (``exc`` is ``None``) a dependency's error can only be logged.
        """
        exits, self.exits = self.exits, []
        return await _finish(exits, exc)

    async def close_function_scoped(self) -> BaseException | None:
        """Finish the ``Depends(scope="function")`` generators (the handler returned);
        returns the exception one of them raised, if any."""
        if not any(function_scope for _, _, function_scope in self.exits):
            return None
        scoped = [entry for entry in self.exits if entry[2]]
        self.exits = [entry for entry in self.exits if not entry[2]]
        return await _finish(scoped, None, log=False)


async def _finish(
    exits: list[tuple[Any, bool, bool]], exc: BaseException | None, log: bool = True
) -> BaseException | None:
    while exits:
        generator, is_async, _ = exits.pop()
        try:
            if is_async:
                await _finish_async(generator, exc)
            else:
                await run_in_threadpool(_finish_sync, generator, exc)
        except Exception as cleanup_error:
            if cleanup_error is exc:
                continue
            if exc is None and log:
                logger.exception("Error in the cleanup of dependency %r", generator)
                continue
            exc = cleanup_error  # the dependencies further out see this one
    return exc


def _merge_scopes(outer: tuple[str, ...], own: tuple[str, ...]) -> tuple[str, ...]:
    return outer + tuple(scope for scope in own if scope not in outer)


def _finish_sync(generator: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            next(generator)
        else:
            generator.throw(exc)
    except StopIteration:
        _check_not_swallowed(generator, exc)
        return
    raise RuntimeError(f"Dependency generator {generator!r} yielded more than once.")


def _check_not_swallowed(generator: Any, exc: BaseException | None) -> None:
    if exc is not None:
        # The request is still answered for ``exc``; a bare ``except`` hid it from the
        # dependency's author, who may think it handled the error.
        logger.error(
            "Dependency %s caught %s and did not raise it again; the request is answered "
            "for it anyway. Re-raise it (or raise another, such as HTTPException) in the "
            "except block.",
            getattr(generator, "__qualname__", generator),
            type(exc).__name__,
        )


async def _finish_async(generator: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            await generator.__anext__()
        else:
            await generator.athrow(exc)
    except StopAsyncIteration:
        _check_not_swallowed(generator, exc)
        return
    raise RuntimeError(f"Dependency generator {generator!r} yielded more than once.")


class Plan:
    """How to call one function with what a request provides."""

    __slots__ = (
        "body",
        "body_names",
        "call",
        "compile_override",
        "dependant",
        "dependencies",
        "function_scope",
        "is_async",
        "is_async_generator",
        "is_generator",
        "name",
        "scalars",
        "security_scopes",
        "specials",
        "streams",
    )

    def __init__(
        self,
        dependant: Dependant,
        *,
        root: bool = True,
        compile_override: Callable[[Callable[..., Any]], Plan] | None = None,
        function_scope: bool = False,
        security_scopes: tuple[str, ...] = (),
    ) -> None:
        self.dependant = dependant
        self.call = dependant.call
        self.name = callable_name(dependant.call)
        self.is_async = dependant.is_async
        self.is_generator = dependant.is_generator
        self.is_async_generator = dependant.is_async_generator
        #: A handler (not a dependency) that is a generator: its result is streamed.
        self.streams = root and (self.is_generator or self.is_async_generator)
        self.scalars = ScalarReader(dependant.fields)
        self.body_names = [f.name for f in dependant.fields if f.source.in_body]
        # Plain tuples, not the Dependant's named ones: they are unpacked per request, and
        # unpacking a tuple subclass goes through an iterator.
        self.specials = [(special.name, special.kind) for special in dependant.specials]
        self.compile_override = compile_override
        #: Set on a dependency's plan by ``Depends(scope="function")``.
        self.function_scope = function_scope
        #: The OAuth2 scopes the ``Security()`` uses on the way here require.
        self.security_scopes = security_scopes
        #: ``(name or None, plan, use_cache)`` for each dependency, in order.
        self.dependencies = [
            (
                dependency.name,
                Plan(
                    dependency.dependant,
                    root=False,
                    compile_override=compile_override,
                    function_scope=dependency.function_scope,
                    security_scopes=_merge_scopes(security_scopes, dependency.scopes),
                ),
                dependency.use_cache,
            )
            for dependency in dependant.dependencies
        ]
        fields = dependant.body_fields() if root else []
        self.body = BodyReader(fields, self.name) if fields else None

    async def solve(self, request: Request, context: RequestContext) -> dict[str, Any]:
        """The keyword arguments for this plan's function (errors collect in ``context``)."""
        if self.body is not None:
            await self.body.read(request, context.body_values, context.errors)
        return await self._arguments(request, context)

    async def _arguments(self, request: Request, context: RequestContext) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, plan, use_cache in self.dependencies:
            value = await plan._resolve(request, context, use_cache)
            if name is not None:
                values[name] = value
        if self.scalars:
            self.scalars.read(request, values, context.errors)
        for name in self.body_names:
            if name in context.body_values:
                values[name] = context.body_values[name]
        for name, kind in self.specials:
            if kind is SpecialKind.SECURITY_SCOPES:
                values[name] = SecurityScopes(self.security_scopes)
            else:
                values[name] = context.special(kind, request)
        return values

    async def _resolve(self, request: Request, context: RequestContext, use_cache: bool) -> Any:
        plan = self
        if context.overrides:
            override = context.overrides.get(self.call)
            if override is not None and self.compile_override is not None:
                plan = self.compile_override(override)
        call = plan.call
        # A use with other scopes is another value (its SecurityScopes differ).
        key: Any = (call, self.security_scopes) if self.security_scopes else call
        if use_cache and key in context.cache:
            return context.cache[key]
        errors_before = len(context.errors)
        values = await plan._arguments(request, context)
        if len(context.errors) > errors_before or any(n not in values for n in plan.body_names):
            # Its input is invalid (body fields were read, and failed, before any dependency
            # ran); the request fails with those errors.
            return None
        value = await plan.invoke(values, context, self.function_scope)
        if use_cache:
            context.cache[key] = value
        return value

    async def invoke(
        self, values: dict[str, Any], context: RequestContext, function_scope: bool = False
    ) -> Any:
        """Call the function: async on the loop, sync in the thread pool; enter generators
        (``function_scope``: their exit runs when the handler returns)."""
        call = self.call
        if self.streams:
            return call(**values)  # a generator handler: its items are the response
        if self.is_async_generator:
            generator = call(**values)
            value = await generator.__anext__()
            context.exits.append((generator, True, function_scope))
            return value
        if self.is_generator:
            generator = call(**values)
            value = await run_in_threadpool(next, generator)
            context.exits.append((generator, False, function_scope))
            return value
        if self.is_async:
            return await call(**values)
        return await run_in_threadpool(call, **values)

    def check(self, context: RequestContext, request: Request | None = None) -> None:
        """Raise the collected validation errors, if any."""
        if context.errors:
            raise RequestValidationError(context.errors, body=body_of(request))
