"""Turning exceptions into responses: user handlers first, then RFC 9457 problems."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from nightowl._concurrency import is_async_callable, run_in_threadpool
from nightowl.exceptions import HTTPException, ResponseValidationError
from nightowl.requests import ClientDisconnect, Request
from nightowl.responses import HTMLResponse, Response, problem_response

__all__ = ["ExceptionHandler", "ExceptionHandlers"]

logger = logging.getLogger("nightowl.error")

ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class ExceptionHandlers:
    """The registry behind ``@app.exception_handler``: by exception class or by status code."""

    def __init__(self, debug: bool = False) -> None:
        self.by_class: dict[type[BaseException], ExceptionHandler] = {}
        self.by_status: dict[int, ExceptionHandler] = {}
        self.debug = debug

    @property
    def custom(self) -> bool:
        """True once any handler is registered."""
        return bool(self.by_class or self.by_status)

    def add(self, key: type[BaseException] | int, handler: ExceptionHandler) -> None:
        """Register ``handler`` for an exception class (and its subclasses) or a status code."""
        if isinstance(key, int):
            self.by_status[key] = handler
        else:
            self.by_class[key] = handler

    def _find(self, exc: BaseException) -> ExceptionHandler | None:
        if self.by_status and isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        if self.by_class:
            for klass in type(exc).__mro__:
                handler = self.by_class.get(klass)
                if handler is not None:
                    return handler
        return None

    async def response_for(self, request: Request, exc: BaseException) -> Response:
        """The response that answers ``exc``; never raises for an ordinary exception."""
        handler = self._find(exc)
        if handler is not None:
            try:
                if is_async_callable(handler):
                    return await handler(request, exc)  # type: ignore[no-any-return,misc]
                result: Any = await run_in_threadpool(handler, request, exc)
                return result  # type: ignore[no-any-return]
            except Exception as handler_error:
                if handler_error is not exc:
                    exc = handler_error
        return self.default_response(request, exc)

    def default_response(self, request: Request, exc: BaseException) -> Response:
        """The built-in answer: a problem for HTTP errors, a 500 for everything else."""
        if isinstance(exc, HTTPException):
            body = exc.to_problem()
            return problem_response(
                exc.status_code,
                headers=exc.headers,
                title=body.pop("title"),
                type=body.pop("type"),
                **{k: v for k, v in body.items() if k != "status"},
            )
        if isinstance(exc, ClientDisconnect):
            return problem_response(400, "The client disconnected before sending the whole body.")
        what = "response validation" if isinstance(exc, ResponseValidationError) else "handler"
        logger.error(
            "Unhandled exception in %s for %s %s", what, request.method, request.path, exc_info=exc
        )
        if self.debug:
            if "text/html" in request.headers.get("accept", ""):
                from nightowl._debug import debug_page

                return HTMLResponse(debug_page(request, exc), status_code=500)
            return problem_response(
                500,
                f"{type(exc).__name__}: {exc}",
                traceback="".join(traceback.format_exception(exc)).splitlines(),
            )
        return problem_response(500, "The server could not complete the request.")
