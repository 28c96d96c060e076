"""Startup, shutdown and the ``lifespan=`` context, and the ASGI lifespan protocol."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from nightowl._app.compiling import Compiling
from nightowl._concurrency import is_async_callable, run_in_threadpool
from nightowl.datastructures import State
from nightowl.types import Receive, Scope, Send

if TYPE_CHECKING:
    from typing import Self

__all__ = ["Lifespan", "LifespanFactory"]

logger = logging.getLogger("nightowl")
F = TypeVar("F", bound=Callable[..., Any])
#: What ``App(lifespan=...)`` takes: called with the app, entered around its life.
LifespanFactory = Callable[[Any], contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None]]


class Lifespan(Compiling):
    """Runs the app's startup and shutdown: hooks, the lifespan context, and compiling."""

    state: State

    def _init_lifespan(self, lifespan: LifespanFactory | None) -> None:
        self._lifespan = lifespan
        self._startup: list[Callable[[], Any]] = []
        self._shutdown: list[Callable[[], Any]] = []
        self._lifespan_stack: contextlib.AsyncExitStack | None = None

    def on_startup(self, func: F) -> F:
        """Run ``func`` (sync or async) when the server starts, before the first request."""
        self._startup.append(func)
        return func

    def on_shutdown(self, func: F) -> F:
        """Run ``func`` (sync or async) when the server stops."""
        self._shutdown.append(func)
        return func

    async def startup(self) -> None:
        """Compile the routes, run startup hooks and enter the lifespan context."""
        self._ensure_compiled()
        for func in self._startup:
            await _call(func)
        if self._lifespan is not None:
            self._lifespan_stack = contextlib.AsyncExitStack()
            state = await self._lifespan_stack.enter_async_context(self._lifespan(self))
            if state:
                for key, value in state.items():
                    setattr(self.state, key, value)

    async def shutdown(self) -> None:
        """Leave the lifespan context and run shutdown hooks."""
        if self._lifespan_stack is not None:
            stack, self._lifespan_stack = self._lifespan_stack, None
            await stack.aclose()
        for func in self._shutdown:
            await _call(func)

    @contextlib.asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[Self]:
        """Run startup and shutdown around a block (used by the test client)."""
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    async def _handle_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.startup()
            if self._lifespan is not None and "state" in scope:
                scope["state"].update(self.state._state)
        except BaseException as exc:
            from nightowl._frames import format_user_traceback

            # Once, with the user's frames only; the server adds that startup failed.
            logger.error("Application startup failed:\n%s", format_user_traceback(exc).rstrip())
            await send({"type": "lifespan.startup.failed", "message": ""})
            raise
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await self.shutdown()
        except BaseException as exc:
            logger.exception("Application shutdown failed")
            await send(
                {"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"}
            )
            raise
        await send({"type": "lifespan.shutdown.complete"})


async def _call(func: Callable[[], Any]) -> None:
    if is_async_callable(func):
        await func()
    else:
        await run_in_threadpool(func)
