"""Cross-site request forgery protection for browsers that carry a session cookie.

``App(sessions=True)`` turns it on. Every unsafe request (POST, PUT, PATCH, DELETE)
that carries the session cookie must:

- come from this site: a cross-site ``Sec-Fetch-Site`` or a foreign ``Origin`` is
  refused (add others with ``trusted_origins``), and
- carry the session's token, in the ``csrf_token`` form field (``{{ csrf_input() }}``
  in a template) or the ``X-CSRF-Token`` header (for ``fetch`` and htmx).

Requests without the session cookie (API clients with tokens or keys) are not
affected: a forged request rides on the cookie a browser sends by itself, and there
is none. A refusal is a 403. ``@csrf_exempt`` lets a route (a webhook) through.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from nightowl._table import RouteTable
from nightowl.datastructures import Headers
from nightowl.exceptions import HTTPException
from nightowl.requests import DEFAULT_MAX_BODY_SIZE, Request
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRFMiddleware",
    "csrf_exempt",
    "get_csrf_token",
    "rotate_csrf_token",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The form field and the header the token is read from.
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SESSION_KEY = "_csrf"
_SECRET_BYTES = 32
_EXEMPT = "__nightowl_csrf_exempt__"


def csrf_exempt(handler: F) -> F:
    """Let every request to this handler through without a CSRF check (webhooks)::

    @app.post("/hooks/payment")
    @csrf_exempt
    async def payment_webhook(request: Request): ...
    """
    setattr(handler, _EXEMPT, True)
    return handler


def get_csrf_token(request: Request) -> str:
    """The CSRF token to put in a form or header, creating the session's secret if needed.

    Each call returns a differently masked token for the same secret, so a page never
    repeats it byte for byte (which defeats compression side channels such as BREACH).
    """
    session = request.session
    secret = session.get(_SESSION_KEY)
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        session[_SESSION_KEY] = secret
    raw = secret.encode("ascii")
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + _xor(raw, pad)).decode("ascii").rstrip("=")


def _xor(left: bytes, right: bytes) -> bytes:
    """``left`` XOR ``right`` (of the same length), as one big-integer operation."""
    number = int.from_bytes(left, "big") ^ int.from_bytes(right, "big")
    return number.to_bytes(len(left), "big")


def rotate_csrf_token(request: Request) -> None:
    """Forget the session's CSRF secret: the next :func:`get_csrf_token` makes a new one.

    Call it when the user behind the session changes (logging in), so a token seen
    before then, by anyone, is worthless after.
    """
    request.session.pop(_SESSION_KEY, None)


def _unmask(token: str) -> bytes | None:
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    half, odd = divmod(len(data), 2)
    if odd or not half:
        return None
    return _xor(data[:half], data[half:])


def token_matches(session: Any, token: str | None) -> bool:
    """Whether ``token`` (from :func:`get_csrf_token`) belongs to ``session``."""
    secret = session.get(_SESSION_KEY) if session is not None else None
    if not token or not isinstance(secret, str):
        return False
    unmasked = _unmask(token)
    return unmasked is not None and hmac.compare_digest(unmasked, secret.encode("ascii"))


class CSRFMiddleware:
    """Refuse forged unsafe requests (see the module docs). Runs inside ``SessionMiddleware``.

    Args:
        router: the app (or router) whose ``@csrf_exempt`` handlers are let through.
        trusted_origins: other origins allowed to post, such as ``"https://www.example.com"``.
        exempt_paths: path prefixes that are never checked (``"/hooks/"``).
        field_name, header_name: where the token is read from.
        max_body_size: the largest form body read to find the token.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Any = None,
        trusted_origins: Iterable[str] = (),
        exempt_paths: Iterable[str] = (),
        field_name: str = CSRF_FIELD,
        header_name: str = CSRF_HEADER,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.app = app
        self.router = router
        self.trusted_origins = {origin.rstrip("/").lower() for origin in trusted_origins}
        self.exempt_paths = tuple(exempt_paths)
        self.field_name = field_name
        self.header_name = header_name.lower()
        self.max_body_size = max_body_size
        self._exempt: RouteTable[bool] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not getattr(scope.get("session"), "from_cookie", False)
            or self._is_exempt(scope)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(raw=scope["headers"])
        self._check_origin(scope, headers)
        token = headers.get(self.header_name)
        if token is None and _is_form(headers):
            token, receive = await self._token_from_form(scope, receive)
        if not token_matches(scope["session"], token):
            raise HTTPException(
                403,
                "CSRF token missing or incorrect: add {{ csrf_input() }} to the form "
                f"or send the {CSRF_HEADER} header.",
                title="CSRF verification failed",
            )
        await self.app(scope, receive, send)

    def _is_exempt(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if self.exempt_paths and path.startswith(self.exempt_paths):
            return True
        if self.router is None:
            return False
        if self._exempt is None:
            table: RouteTable[bool] = RouteTable()
            for route in self.router.iter_routes():
                if getattr(route.endpoint, _EXEMPT, False) and hasattr(route, "methods"):
                    table.add(route.template, route.methods, True)
            self._exempt = table
        return self._exempt.lookup(scope["method"], path)[0] is not None

    def _check_origin(self, scope: Scope, headers: Headers) -> None:
        site = headers.get("sec-fetch-site")
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
        if origin is not None:
            origin = origin.rstrip("/").lower()
            if origin == own or origin in self.trusted_origins:
                return
            raise HTTPException(
                403,
                f"Cross-origin request refused (Origin: {origin}).",
                title="CSRF verification failed",
            )
        if site is not None and site not in ("same-origin", "none"):
            raise HTTPException(
                403,
                f"Cross-site request refused (Sec-Fetch-Site: {site}).",
                title="CSRF verification failed",
            )

    async def _token_from_form(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """Read the body to find the token; return it and a ``receive`` that replays the body."""
        body = await Request(scope, receive, max_body_size=self.max_body_size).body()
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        content_type = Headers(raw=scope["headers"]).get("content-type", "")
        if content_type.lower().startswith("application/x-www-form-urlencoded"):
            for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                if key == self.field_name:
                    return value, replay
            return None, replay
        probe_replayed = False

        async def probe() -> Message:
            nonlocal probe_replayed
            if not probe_replayed:
                probe_replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        form = await Request(scope, probe, max_body_size=self.max_body_size).form()
        try:
            value = form.get(self.field_name)
        finally:
            await form.close()
        return (value if isinstance(value, str) else None), replay


def _is_form(headers: Headers) -> bool:
    content_type: str = headers.get("content-type", "").lower()
    return content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
