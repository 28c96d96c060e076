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
from nightowl._handlers.readers import BodyReader, Errors, ScalarReader
from nightowl.background import BackgroundTasks
from nightowl.exceptions import RequestValidationError
from nightowl.requests import Request
from nightowl.responses import Response

__all__ = ["Plan", "RequestContext"]

logger = logging.getLogger("nightowl.error")


class RequestContext:
    """Per-request state of dependency resolution."""

    __slots__ = ("background", "body_values", "cache", "errors", "exits", "overrides", "response")

    def __init__(self, overrides: Mapping[Callable[..., Any], Callable[..., Any]]) -> None:
        self.cache: dict[Callable[..., Any], Any] = {}
        self.exits: list[tuple[Any, bool]] = []
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

    async def close(self, exc: BaseException | None) -> None:
        """Finish generator dependencies, innermost first; ``exc`` is thrown into them."""
        while self.exits:
            generator, is_async = self.exits.pop()
            try:
                if is_async:
                    await _finish_async(generator, exc)
                else:
                    await run_in_threadpool(_finish_sync, generator, exc)
            except Exception as cleanup_error:
                if cleanup_error is not exc:
                    logger.exception("Error in the cleanup of dependency %r", generator)


def _finish_sync(generator: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            next(generator)
        else:
            generator.throw(exc)
    except StopIteration:
        return
    raise RuntimeError(f"Dependency generator {generator!r} yielded more than once.")


async def _finish_async(generator: Any, exc: BaseException | None) -> None:
    try:
        if exc is None:
            await generator.__anext__()
        else:
            await generator.athrow(exc)
    except StopAsyncIteration:
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
        "is_async",
        "is_async_generator",
        "is_generator",
        "name",
        "scalars",
        "specials",
    )

    def __init__(
        self,
        dependant: Dependant,
        *,
        root: bool = True,
        compile_override: Callable[[Callable[..., Any]], Plan] | None = None,
    ) -> None:
        self.dependant = dependant
        self.call = dependant.call
        self.name = callable_name(dependant.call)
        self.is_async = dependant.is_async
        self.is_generator = dependant.is_generator
        self.is_async_generator = dependant.is_async_generator
        self.scalars = ScalarReader(dependant.fields)
        self.body_names = [f.name for f in dependant.fields if f.source.in_body]
        # Plain tuples, not the Dependant's named ones: they are unpacked per request, and
        # unpacking a tuple subclass goes through an iterator.
        self.specials = [(special.name, special.kind) for special in dependant.specials]
        self.compile_override = compile_override
        #: ``(name or None, plan, use_cache)`` for each dependency, in order.
        self.dependencies = [
            (name, Plan(sub, root=False, compile_override=compile_override), cache)
            for name, sub, cache in dependant.dependencies
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
            values[name] = context.special(kind, request)
        return values

    async def _resolve(self, request: Request, context: RequestContext, use_cache: bool) -> Any:
        plan = self
        if context.overrides:
            override = context.overrides.get(self.call)
            if override is not None and self.compile_override is not None:
                plan = self.compile_override(override)
        call = plan.call
        if use_cache and call in context.cache:
            return context.cache[call]
        errors_before = len(context.errors)
        values = await plan._arguments(request, context)
        if len(context.errors) > errors_before or any(n not in values for n in plan.body_names):
            # Its input is invalid (body fields were read, and failed, before any dependency
            # ran); the request fails with those errors.
            return None
        value = await plan.invoke(values, context)
        if use_cache:
            context.cache[call] = value
        return value

    async def invoke(self, values: dict[str, Any], context: RequestContext) -> Any:
        """Call the function: async on the loop, sync in the thread pool; enter generators."""
        call = self.call
        if self.is_async_generator:
            generator = call(**values)
            value = await generator.__anext__()
            context.exits.append((generator, True))
            return value
        if self.is_generator:
            generator = call(**values)
            value = await run_in_threadpool(next, generator)
            context.exits.append((generator, False))
            return value
        if self.is_async:
            return await call(**values)
        return await run_in_threadpool(call, **values)

    def check(self, context: RequestContext) -> None:
        """Raise the collected validation errors, if any."""
        if context.errors:
            raise RequestValidationError(context.errors)
