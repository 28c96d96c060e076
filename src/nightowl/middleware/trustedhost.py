"""Refuse requests whose ``Host`` header names a host the app does not serve."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from nightowl.datastructures import Headers
from nightowl.exceptions import ImproperlyConfigured
from nightowl.problems import error_response
from nightowl.responses import RedirectResponse
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware", "split_host"]

# A DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port.
_HOST_HEADER = re.compile(r"(?P<host>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
_HOST_PATTERN = re.compile(r"(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\]")
_PATH_SAFE = "/:@!$&'()*+,;=~"
INVALID_HOST_DETAIL = "The Host header is missing or names a host this server does not serve."


def split_host(value: str) -> tuple[str, str | None] | None:
    """Split a ``Host`` header into a normalised host and port, or ``None`` if malformed.

    ``"Example.COM.:8000"`` gives ``("example.com", "8000")``; IPv6 addresses keep their
    brackets (``"[::1]"``).
    """
    match = _HOST_HEADER.fullmatch(value.strip().lower())
    if match is None:
        return None
    host = match["host"]
    if not host.startswith("["):
        host = host.removesuffix(".")
        if not host or ".." in host:
            return None
    return host, match["port"]


def _normalise_pattern(pattern: str) -> str:
    value = pattern.strip().lower()
    if value == "*":
        return value
    if value.count(":") >= 2 and not value.startswith("["):
        value = f"[{value}]"  # a bare IPv6 address
    value = value.removesuffix(".")
    if not _HOST_PATTERN.fullmatch(value):
        raise ImproperlyConfigured(
            f"Allowed host {pattern!r} must be a host name without a port, like "
            "'example.com', '*.example.com', '127.0.0.1', '[::1]' or '*'."
        )
    return value


class TrustedHostMiddleware:
    """Answer 400 to requests for hosts not in ``allowed_hosts``.

    A forged ``Host`` header otherwise leaks into absolute URLs the app builds (password
    reset links, redirects) and into caches. WebSocket handshakes are checked too.

    ::

        app.add_middleware(
            TrustedHostMiddleware,
            allowed_hosts=["example.com", "*.example.com"],
            www_redirect=True,
        )

    Args:
        app: the ASGI app to wrap.
        allowed_hosts: host names, without ports. ``"*.example.com"`` matches every
            subdomain of ``example.com`` (but not ``example.com`` itself); ``"*"`` allows
            any host.
        www_redirect: redirect (308) a request for ``example.com`` to
            ``www.example.com`` when only the ``www.`` host is allowed.

    A refused HTTP request gets an ``application/problem+json`` 400; a refused WebSocket
    handshake gets the same 400 where the server supports denial responses, and is
    closed with code 1008 (policy violation) otherwise.

    Raises:
        ImproperlyConfigured: for a string instead of a list, an empty list, or a host
            with a port, a path or a misplaced ``*``.
    """

    __slots__ = ("allow_any", "app", "exact_hosts", "suffixes", "www_redirect")

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str], www_redirect: bool = False
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise ImproperlyConfigured(
                "TrustedHostMiddleware(allowed_hosts=...) takes a list, not a string."
            )
        if not allowed_hosts:
            raise ImproperlyConfigured(
                "TrustedHostMiddleware needs at least one allowed host (use ['*'] for any)."
            )
        patterns = [_normalise_pattern(pattern) for pattern in allowed_hosts]
        self.app = app
        self.allow_any = "*" in patterns
        self.exact_hosts = frozenset(p for p in patterns if not p.startswith("*"))
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))
        self.www_redirect = www_redirect

    def is_allowed_host(self, host: str) -> bool:
        """Whether ``host`` (normalised, without its port) is one the app serves."""
        return self.allow_any or host in self.exact_hosts or host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self.allow_any or kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parsed = split_host(Headers(scope=scope).get("host", ""))
        if parsed is not None and self.is_allowed_host(parsed[0]):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await _refuse_websocket(scope, receive, send)
            return
        if parsed is not None and self.www_redirect:
            host, port = parsed
            www = "www." + host
            if not host.startswith("www.") and self.is_allowed_host(www):
                url = _redirect_url(scope, www if port is None else f"{www}:{port}")
                await RedirectResponse(url, status_code=308)(scope, receive, send)
                return
        await error_response(scope, 400, INVALID_HOST_DETAIL)(scope, receive, send)


def _redirect_url(scope: Scope, netloc: str) -> str:
    path = quote(scope.get("root_path", "") + scope["path"], safe=_PATH_SAFE)
    url = f"{scope.get('scheme', 'http')}://{netloc}{path}"
    query = scope.get("query_string", b"")
    return f"{url}?{query.decode('latin-1')}" if query else url


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    if "websocket.http.response" not in (scope.get("extensions") or {}):
        await send({"type": "websocket.close", "code": 1008, "reason": "Invalid host"})
        return

    async def send_denial(message: Message) -> None:
        # The denial response speaks HTTP over the handshake under websocket.* names.
        await send({**message, "type": "websocket." + message["type"]})

    await error_response(scope, 400, INVALID_HOST_DETAIL)(scope, receive, send_denial)
