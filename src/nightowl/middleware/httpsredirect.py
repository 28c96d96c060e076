"""Send every plain-HTTP request to the same URL over HTTPS."""

from __future__ import annotations

from urllib.parse import quote

from nightowl.datastructures import Headers
from nightowl.responses import RedirectResponse
from nightowl.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Redirect ``http://`` requests to ``https://`` (and ``ws://`` to ``wss://``) with a 307,
    which keeps the method and body; requests already on HTTPS pass through.

    ::

        app.add_middleware(HTTPSRedirectMiddleware)

    Behind a proxy that ends TLS, the app sees ``http``: let the server trust the proxy's
    ``X-Forwarded-Proto`` (uvicorn's ``--proxy-headers``), or the redirect loops.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Redirect insecure HTTP and WebSocket requests; pass everything else on."""
        scheme = scope.get("scheme", "ws" if scope["type"] == "websocket" else "http")
        if scope["type"] not in ("http", "websocket") or scheme not in _SECURE:
            await self.app(scope, receive, send)
            return
        secure = _SECURE[scheme]
        host = Headers(scope=scope).get("host")
        if host is None:
            host = str((scope.get("server") or ("localhost", None))[0])
        host = host.removesuffix(":80")  # port 80 is plain HTTP's; HTTPS uses its own default
        path = quote(scope.get("root_path", "") + scope["path"], safe="/:@!$&'()*+,;=~%")
        query = scope.get("query_string", b"").decode("latin-1")
        url = f"{secure}://{host}{path}"
        if query:
            url += "?" + query
        if scope["type"] == "websocket":
            # A handshake cannot be redirected; refuse it, as the client must reconnect securely.
            await send({"type": "websocket.close", "code": 1008, "reason": "Use " + url})
            return
        await RedirectResponse(url, status_code=307)(scope, receive, send)
