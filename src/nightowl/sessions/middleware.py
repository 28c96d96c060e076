"""The middleware that loads ``request.session`` before the handler and saves it after."""

from __future__ import annotations

import os
from collections.abc import Callable

from nightowl.datastructures import parse_cookie_header
from nightowl.exceptions import ImproperlyConfigured
from nightowl.sessions._session import HTTPSession
from nightowl.sessions.backends import (
    COOKIE_SIZE_LIMIT,
    CookieBackend,
    SessionBackend,
    SessionTooLarge,
)
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SessionMiddleware"]

TWO_WEEKS = 14 * 24 * 3600


class SessionMiddleware:
    """Put a :class:`~nightowl.sessions.HTTPSession` in ``scope["session"]`` and keep it in a cookie.

    ``App(sessions=True)`` adds it for you (with CSRF protection); by hand::

        app.add_middleware(SessionMiddleware, secret_key="...", backend=RedisBackend())

    Args:
        secret_key: the signing key, or a function returning it (called on the first request).
            ``None`` reads the ``NIGHTOWL_SECRET_KEY`` or ``SECRET_KEY`` environment variable.
        backend: where the data lives; a signed cookie (:class:`CookieBackend`) by default.
        cookie_name: the cookie's name.
        max_age: seconds a session lives without being saved again (two weeks).
        path, domain: the cookie's scope.
        same_site: ``"lax"`` (default), ``"strict"`` or ``"none"``.
        secure: send the cookie over HTTPS only; ``None`` sets it when the request is HTTPS.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str | Callable[[], str] | None = None,
        backend: SessionBackend | None = None,
        cookie_name: str = "session",
        max_age: int = TWO_WEEKS,
        path: str = "/",
        domain: str | None = None,
        same_site: str = "lax",
        secure: bool | None = None,
    ) -> None:
        if same_site.lower() not in ("lax", "strict", "none"):
            raise ImproperlyConfigured("same_site must be 'lax', 'strict' or 'none'.")
        self.app = app
        self.backend = backend or CookieBackend()
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.secure = secure
        self._secret_key = secret_key
        self._bound = False
        attributes = (
            f"; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site.capitalize()}"
        )
        if domain:
            attributes += f"; Domain={domain}"
        self._attributes = attributes
        self._expire = f"; Path={path}; Max-Age=0; HttpOnly; SameSite={same_site.capitalize()}"
        if domain:
            self._expire += f"; Domain={domain}"

    def _bind(self) -> None:
        key = self._secret_key
        if callable(key):
            key = key()
        if key is None:
            key = os.environ.get("NIGHTOWL_SECRET_KEY") or os.environ.get("SECRET_KEY")
        if not key:
            raise ImproperlyConfigured(
                "SessionMiddleware needs a secret key: pass secret_key=... or set "
                "the NIGHTOWL_SECRET_KEY environment variable."
            )
        self.backend.bind(key)
        self._bound = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self._bound:
            self._bind()
        cookie = None
        for name, value in scope["headers"]:
            if name == b"cookie":
                cookie = parse_cookie_header(value.decode("latin-1")).get(self.cookie_name)
                break
        if cookie:
            session_id, data, joined = await self.backend.load_joined(cookie, self.max_age)
            session = HTTPSession(data, id=session_id, from_cookie=True, joined=joined)
        else:
            session = HTTPSession()
        scope["session"] = session
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        failed = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start" and not failed:
                try:
                    header = await self._cookie_header(scope, session)
                except Exception:
                    failed = True  # the error response that follows must not try again
                    raise
                if header is not None or session.accessed:
                    # A page built from the session must not be served to others by a cache.
                    headers = list(message.get("headers", ()))
                    if header is not None:
                        headers.append((b"set-cookie", header))
                    headers.append((b"vary", b"Cookie"))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _cookie_header(self, scope: Scope, session: HTTPSession) -> bytes | None:
        """The ``Set-Cookie`` value for the session, or ``None`` when nothing changed."""
        if not session.modified:
            return None
        secure = self.secure if self.secure is not None else scope.get("scheme") == "https"
        suffix = "; Secure" if secure else ""
        if not session:
            if not session.from_cookie:
                return None
            await self.backend.delete(session.id)
            return f"{self.cookie_name}={self._expire}{suffix}".encode("latin-1")
        session_id = session.id
        if session.regenerate_id and session_id is not None:
            await self.backend.delete(session_id)
            session_id = None
        value = await self.backend.save(session_id, session.to_dict(), self.max_age)
        header = f"{self.cookie_name}={value}{self._attributes}{suffix}"
        if len(header) > COOKIE_SIZE_LIMIT:
            raise SessionTooLarge(
                f"The session cookie would be {len(header)} bytes, over the "
                f"{COOKIE_SIZE_LIMIT}-byte limit browsers keep, so the browser would drop it. "
                "Store less in the session (an id instead of the object), or keep sessions "
                "server-side: App(sessions='redis://...')."
            )
        return header.encode("latin-1")
