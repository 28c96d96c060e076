"""Work to run after the response has been sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec

from nightowl._concurrency import is_async_callable, run_in_threadpool

__all__ = ["BackgroundTasks"]

_P = ParamSpec("_P")


class BackgroundTasks:
    """Functions to call once the response is on its way.

    Take it as a handler parameter and add to it::

        @app.post("/signup")
        def signup(user: UserIn, tasks: BackgroundTasks):
            tasks.add_task(send_welcome_email, user.email)
            return {"ok": True}

    Sync functions run in the thread pool; a failing task is logged and does not
    stop the others.
    """

    __slots__ = ("tasks",)

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add_task(self, func: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Schedule ``func(*args, **kwargs)``."""
        self.tasks.append((func, args, kwargs))

    async def __call__(self) -> None:
        import logging

        for func, args, kwargs in self.tasks:
            try:
                if is_async_callable(func):
                    await func(*args, **kwargs)
                else:
                    await run_in_threadpool(func, *args, **kwargs)
            except Exception:
                logging.getLogger("nightowl.error").exception("Background task %r failed", func)
