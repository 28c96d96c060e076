"""How a request proves who it is: ``current_user`` asks each authenticator in turn.

The battery installs :class:`SessionAuthenticator` (the browser's login session).
Token and API-key authenticators implement the same interface and are added with
``Auth(app, authenticators=[...])``, or ``auth.authenticators.append(...)``; the first
one that finds a user wins, and a request none recognises is anonymous.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from nightowl.auth._login import USER_JOIN, fingerprint_matches, session_user_id
from nightowl.requests import Request

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.models import AbstractUser
    from nightowl.security import SecurityScheme

__all__ = ["Authenticator", "SessionAuthenticator"]

logger = logging.getLogger("nightowl.auth")


class Authenticator(ABC):
    """Finds the user a request speaks for, or ``None``.

    Attributes:
        challenge: the ``WWW-Authenticate`` value sent with a 401 when no user was found
            (``Bearer``, ``APIKey``...).
    """

    challenge: str = "Session"

    @abstractmethod
    async def authenticate(self, request: Request, auth: AuthAPI) -> AbstractUser | None:
        """The active user the request proves it is, or ``None``.

        Raise :class:`~nightowl.HTTPException` (401) for a credential that is present but
        wrong (an expired token), so the client learns why.
        """

    def security_scheme(self, auth: AuthAPI) -> SecurityScheme | None:
        """The OpenAPI security scheme of the credential this authenticator reads, listed
        by every operation that depends on ``current_user``; ``None`` to list nothing."""
        return None


class SessionAuthenticator(Authenticator):
    """The user logged in to the browser's session with :func:`~nightowl.auth.login`.

    A session whose password fingerprint no longer matches (the password changed
    elsewhere) or whose user is gone or inactive is cleared: the browser is logged out.
    """

    challenge = "Session"

    def security_scheme(self, auth: AuthAPI) -> SecurityScheme | None:
        """The session cookie."""
        from nightowl.auth.dependencies import session_cookie

        return session_cookie

    async def authenticate(self, request: Request, auth: AuthAPI) -> AbstractUser | None:
        """The session's user: read with a database session, else loaded with one query."""
        user_id = session_user_id(request)
        if user_id is None:
            return None
        joined = request.session.joined.get(USER_JOIN)
        if joined is not None and joined[0] == user_id:
            row = joined[1]
            user = await auth.user_from_row(row) if row is not None else None
        else:
            user = await auth.get_user(user_id)
        if user is None or not user.is_active or not fingerprint_matches(request, user):
            request.session.clear()
            return None
        return user
