"""What nightowl puts in front of an app under every server it launches.

Servers differ in what they let through (h11 answers a request that carries both
``Content-Length`` and ``Transfer-Encoding``; httptools accepts any size of header), so
``nightowl run`` and ``nightowl serve`` wrap the app in :class:`ServerGuard`, which refuses,
before the app sees them:

* a request with both ``Content-Length`` and ``Transfer-Encoding`` (the shape of request
  smuggling, RFC 9112 section 6.1): 400, and the connection is closed;
* a request whose headers are too many or too large in total: 431.

The servers' own limits are set from the same figures (see :mod:`nightowl._server`), so a
huge header is refused while it arrives rather than after it was buffered.
"""

from __future__ import annotations

import json
import os

from nightowl._shutdown import install as install_shutdown_hook
from nightowl.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_HEADER_SIZE",
    "MAX_HEADERS_ENV",
    "MAX_HEADER_SIZE_ENV",
    "ServerGuard",
    "limits_from_environment",
]

#: The largest request line plus headers accepted, in bytes (browsers with many cookies
#: stay well below; nginx's default buffers hold 32 KiB).
DEFAULT_MAX_HEADER_SIZE = 32 * 1024
#: The most header fields a request may carry.
DEFAULT_MAX_HEADERS = 100
#: How the limits reach the server's worker processes (they inherit the environment).
MAX_HEADER_SIZE_ENV = "_NIGHTOWL_MAX_HEADER_SIZE"
MAX_HEADERS_ENV = "_NIGHTOWL_MAX_HEADERS"


def limits_from_environment() -> tuple[int, int]:
    """``(max_header_size, max_headers)`` as the serving process set them."""
    return (
        int(os.environ.get(MAX_HEADER_SIZE_ENV, DEFAULT_MAX_HEADER_SIZE)),
        int(os.environ.get(MAX_HEADERS_ENV, DEFAULT_MAX_HEADERS)),
    )


class ServerGuard:
    """An ASGI wrapper refusing requests no app should see (see the module docstring).

    Args:
        app: the application.
        max_header_size: the most bytes of header names and values (and the path) a
            request may carry.
        max_headers: the most header fields a request may carry.
    """

    __slots__ = ("app", "max_header_size", "max_headers")

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        self.app = app
        self.max_header_size = max_header_size
        self.max_headers = max_headers

    def __getattr__(self, name: str) -> object:
        # The wrapped app's attributes (``debug``, ``state``...) stay reachable.
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" or kind == "websocket":
            refusal = self.refusal(scope)
            if refusal is not None:
                status, detail = refusal
                if kind == "http":
                    await _send_problem(send, status, detail)
                else:
                    await send({"type": "websocket.close", "code": 1008, "reason": detail})
                return
        elif kind == "lifespan":
            # The server has set its signal handlers by now: end streams on SIGTERM first.
            install_shutdown_hook()
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """``(status, detail)`` when the request must be refused, else ``None``."""
        headers = scope["headers"]
        if len(headers) > self.max_headers:
            return 431, f"The request has more than {self.max_headers} header fields."
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
        length = chunked = False
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length":
                length = True
            elif name == b"transfer-encoding":
                chunked = True
        if size > self.max_header_size:
            return 431, f"The request's headers exceed {self.max_header_size} bytes."
        if length and chunked:
            return 400, "A request may not carry both Content-Length and Transfer-Encoding."
        return None


async def _send_problem(send: Send, status: int, detail: str) -> None:
    title = "Bad Request" if status == 400 else "Request Header Fields Too Large"
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the stream cannot be trusted: never read another request from it.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
