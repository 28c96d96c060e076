"""Middleware written as one function: ``@app.middleware("http")``.

::

    @app.middleware("http")
    async def add_timing(request, call_next):
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Process-Time"] = f"{time.perf_counter() - start:.4f}"
        return response

``call_next(request)`` runs the rest of the app and returns its response as soon as the
status and headers are known; the body streams through afterwards, so streaming
responses and server-sent events keep streaming. The function may return that response
(changed or not) or another one. A plain ASGI middleware class
(:meth:`nightowl.App.add_middleware`) costs less per request; this form is for
convenience and for code moved from FastAPI or Starlette.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CallNext", "FunctionMiddleware", "MiddlewareFunction"]

#: ``await call_next(request)``: the response of the rest of the app.
CallNext = Callable[[Request], Awaitable[Response]]
#: ``async def middleware(request, call_next) -> Response``.
MiddlewareFunction = Callable[[Request, CallNext], Awaitable[Response]]


class _PassedOnResponse(Response):
    """The response of the rest of the app: its status and headers, its body still to come."""

    def __init__(self, start: Message, messages: asyncio.Queue[Message | BaseException]) -> None:
        self.status_code = start["status"]
        self.background = None
        self.raw_headers = list(start.get("headers", []))
        self.body = b""
        self._messages = messages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        while True:
            message = await self._messages.get()
            if isinstance(message, BaseException):
                raise message
            await send(message)
            if message["type"] != "http.response.body" or not message.get("more_body", False):
                return


class FunctionMiddleware:
    """The ASGI middleware behind ``@app.middleware("http")``: calls ``dispatch(request,
    call_next)`` for each HTTP request; WebSocket and lifespan events pass straight on.

    Args:
        app: the ASGI app to wrap.
        dispatch: ``async def (request, call_next) -> Response``.
    """

    def __init__(self, app: ASGIApp, dispatch: MiddlewareFunction) -> None:
        self.app = app
        self.dispatch = dispatch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the function around the rest of the app for HTTP requests."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        tasks: list[asyncio.Task[None]] = []

        async def call_next(request: Request) -> Response:
            messages: asyncio.Queue[Message | BaseException] = asyncio.Queue()
            task = asyncio.get_running_loop().create_task(
                self._run_app(scope, _replaying(request, receive), messages)
            )
            tasks.append(task)
            first = await messages.get()
            if isinstance(first, BaseException):
                raise first
            if first["type"] != "http.response.start":
                raise RuntimeError("The app sent no response.")
            return _PassedOnResponse(first, messages)

        try:
            response = await self.dispatch(request, call_next)
            await response(scope, receive, send)
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            if tasks:
                await asyncio.wait(tasks)

    async def _run_app(
        self, scope: Scope, receive: Receive, messages: asyncio.Queue[Message | BaseException]
    ) -> None:
        async def send(message: Message) -> None:
            await messages.put(message)

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            await messages.put(exc)
        else:
            # An app that ends without a complete response: end the stream for the reader.
            await messages.put(RuntimeError("The app ended without completing its response."))


def _replaying(request: Request, receive: Receive) -> Receive:
    """``receive`` for the rest of the app: the body again if the function already read it."""
    body: Any = request._body
    if body is None:
        return receive
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay
