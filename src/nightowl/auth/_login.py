"""Logging in and out of the browser's session: ``login(request, user)``, ``logout(request)``.

The session keeps the user's id and a fingerprint of their password hash (an HMAC
with the app's secret key, so the hash itself never leaves the database). Changing the
password changes the fingerprint, which ends every other session of that user; the
session where it was changed is kept with :func:`update_session_auth_hash`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from nightowl.requests import Request
from nightowl.sessions import secret_key_for
from nightowl.sessions.csrf import rotate_csrf_token

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.models import AbstractUser

__all__ = [
    "SESSION_HASH_KEY",
    "SESSION_USER_KEY",
    "USER_JOIN",
    "USER_SCOPE_KEY",
    "auth_of",
    "login",
    "logout",
    "session_fingerprint",
    "update_session_auth_hash",
]

SESSION_USER_KEY = "_auth_user_id"
SESSION_HASH_KEY = "_auth_user_hash"
#: Where the request's user is kept once loaded (``request.scope``), so it loads once.
USER_SCOPE_KEY = "user"
#: Where the session's user, read in the same query as a database session, is kept
#: (``request.session.joined``).
USER_JOIN = "nightowl.auth.user"


def auth_of(app: Any) -> AuthAPI:
    """The :class:`~nightowl.auth.Auth` installed on ``app`` (``Auth(app)``)."""
    auth = getattr(getattr(app, "state", None), "auth", None)
    if auth is None:
        from nightowl.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "nightowl.auth is used but not installed on this app: call Auth(app) once."
        )
    return auth  # type: ignore[no-any-return]


def session_fingerprint(app: Any, user: AbstractUser) -> str:
    """A keyed digest of the user's password hash, kept in the session."""
    key = secret_key_for(app).encode("utf-8")
    message = b"nightowl.auth.session:" + user.password.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def login(request: Request, user: AbstractUser) -> None:
    """Log ``user`` in to the browser's session.

    The session gets a new id (a session id planted before the login is worthless after
    it) and a new CSRF token; data of another user's session is dropped, an anonymous
    visitor's kept. ``user.last_login`` is saved. Check the password first
    (``await auth.authenticate(...)``): this does not.
    """
    auth = auth_of(request.app)
    session = request.session
    previous = session.get(SESSION_USER_KEY)
    if previous is not None and previous != str(user.id):
        session.clear()
    session.cycle_id()
    rotate_csrf_token(request)
    session[SESSION_USER_KEY] = str(user.id)
    session[SESSION_HASH_KEY] = session_fingerprint(request.app, user)
    await auth.record_login(user)
    request.scope[USER_SCOPE_KEY] = user


def logout(request: Request) -> None:
    """Log the browser out: the whole session is cleared and its cookie deleted."""
    request.session.clear()
    request.scope[USER_SCOPE_KEY] = None


def update_session_auth_hash(request: Request, user: AbstractUser) -> None:
    """After ``user`` changed their password in this request, keep this session (with a
    new id) while every other session of theirs ends."""
    session = request.session
    if session.get(SESSION_USER_KEY) == str(user.id):
        session.cycle_id()
        session[SESSION_HASH_KEY] = session_fingerprint(request.app, user)
        request.scope[USER_SCOPE_KEY] = user


def session_user_id(request: Request) -> str | None:
    """The id of the user logged in to the session, if any (nothing is loaded)."""
    session = request.scope.get("session")
    if session is None:
        return None
    value = session.get(SESSION_USER_KEY)
    return value if isinstance(value, str) else None


def fingerprint_matches(request: Request, user: AbstractUser) -> bool:
    """Whether the session was made with the user's current password."""
    stored = request.session.get(SESSION_HASH_KEY)
    if not isinstance(stored, str):
        return False
    return hmac.compare_digest(stored, session_fingerprint(request.app, user))
