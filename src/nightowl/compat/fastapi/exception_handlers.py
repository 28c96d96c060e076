"""``fastapi.exception_handlers``: the default handlers, to call from your own."""

from __future__ import annotations

from nightowl.compat.fastapi._format import FastAPIErrorFormat
from nightowl.exceptions import HTTPException, RequestValidationError, WebSocketException
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.websockets import WebSocket

__all__ = [
    "http_exception_handler",
    "request_validation_exception_handler",
    "websocket_request_validation_exception_handler",
]

_FORMAT = FastAPIErrorFormat()


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """FastAPI's answer to an ``HTTPException``: ``{"detail": ...}`` with its status and headers."""
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return _FORMAT.response(exc)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> Response:
    """FastAPI's answer to a validation error: a 422 with ``{"detail": [...]}``."""
    return _FORMAT.response(exc)


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: RequestValidationError
) -> None:
    """Close the WebSocket with 1008, as FastAPI does for invalid input."""
    raise WebSocketException(1008, str(exc.errors))
