"""Binding jobs enqueued in a request to the request's outcome.

The database battery commits a request's transaction before the response starts, and
only when its status is below 400. This ASGI middleware holds back the jobs a request
enqueues and queues them as the response starts, if its status is below 400: after the
commit, so a worker never sees a job whose rows are not there yet; never for a request
that failed or rolled back. A job enqueued once the response has started (in a
background task, say) is queued at once.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "Pending",
    "TaskBinding",
    "adopt",
    "current_batch",
    "pending",
    "release",
    "request_tasks",
]

logger = logging.getLogger("nightowl.tasks")
_pending: contextvars.ContextVar[Pending | None] = contextvars.ContextVar(
    "nightowl_tasks_pending", default=None
)


class Pending:
    """The jobs one request has enqueued so far, waiting for its response to start."""

    __slots__ = ("_actions", "open", "tasks")

    def __init__(self, tasks: Any) -> None:
        self.tasks = tasks
        self._actions: list[Callable[[], Awaitable[None]]] = []
        self.open = True

    def add(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` (which stores one job) if the request succeeds."""
        self._actions.append(action)

    async def settle(self, succeeded: bool) -> None:
        """Store the held jobs if the request succeeded, else drop them; close the batch."""
        actions, self._actions, self.open = self._actions, [], False
        if succeeded:
            for action in actions:
                await action()
        elif actions:
            logger.info("Dropped %d job(s) enqueued by a request that failed", len(actions))


def pending() -> Pending | None:
    """The current request's batch of held jobs, if a request is being answered."""
    found = _pending.get()
    return found if found is not None and found.open else None


def current_batch() -> Pending | None:
    """The current request's batch, open or not (to carry into another task)."""
    return _pending.get()


def adopt(batch: Pending | None) -> contextvars.Token[Pending | None]:
    """Make ``batch`` the current one in this context (see :func:`current_batch`)."""
    return _pending.set(batch)


def release(token: contextvars.Token[Pending | None]) -> None:
    """Undo :func:`adopt`."""
    _pending.reset(token)


def request_tasks() -> Any:
    """The task queue of the app answering the current request, if any."""
    found = _pending.get()
    return None if found is None else found.tasks


class TaskBinding:
    """ASGI middleware: hold a request's jobs until its response starts (see module)."""

    __slots__ = ("app", "tasks")

    def __init__(self, app: ASGIApp, tasks: Any) -> None:
        self.app = app
        self.tasks = tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        batch = Pending(self.tasks)
        token = _pending.set(batch)

        async def send_after_settling(message: Message) -> None:
            if batch.open and message["type"] == "http.response.start":
                await batch.settle(message["status"] < 400)
            await send(message)

        try:
            await self.app(scope, receive, send_after_settling)
        finally:
            _pending.reset(token)
            if batch.open:  # no response started: the request failed
                await batch.settle(False)
