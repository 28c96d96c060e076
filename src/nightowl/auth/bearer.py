"""Bearer tokens: ``Authorization: Bearer <token>`` resolves to the token's user.

``Auth(app)`` issues and accepts JWTs (:class:`~nightowl.auth.JWTTokens`); opaque
database tokens are one option away (``Auth(app, tokens="database")``, see
:class:`~nightowl.auth.DatabaseTokens`). Either is a :class:`TokenBackend`: it issues an
access token and a refresh token for a user, finds the user of an access token, trades
a refresh token for a new pair (the old one is spent: reusing it revokes the whole
family) and revokes tokens. :class:`BearerAuthenticator` reads the header for
``current_user``; its keyword is configurable (``Bearer``, ``Token``).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from nightowl.auth._login import session_fingerprint
from nightowl.auth.authenticators import Authenticator
from nightowl.auth.dependencies import NotAuthenticated
from nightowl.exceptions import ImproperlyConfigured
from nightowl.requests import Request

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI
    from nightowl.auth.models import AbstractUser
    from nightowl.security import SecurityScheme

__all__ = ["BearerAuthenticator", "TokenBackend", "TokenPair", "password_check"]

#: Longer than any token this battery makes; longer headers are refused unread.
MAX_TOKEN_LENGTH = 4096


def password_check(app: Any, user: AbstractUser) -> str:
    """A short keyed digest of the user's password hash, carried by each token: once the
    password changes, the user's tokens no longer match and are refused."""
    return session_fingerprint(app, user)[:16]


@dataclasses.dataclass(frozen=True, slots=True)
class TokenPair:
    """What a token endpoint answers (RFC 6749, section 5.1).

    Attributes:
        access_token: sent as ``Authorization: Bearer <access_token>``.
        expires_in: seconds the access token is valid.
        refresh_token: traded for a new pair at ``/auth/token``
            (``grant_type=refresh_token``), once.
        token_type: the header keyword (``Bearer``).
    """

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    token_type: str = "Bearer"

    def as_response(self) -> dict[str, Any]:
        """The JSON body of a token response."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


class TokenBackend(ABC):
    """Issues, checks, refreshes and revokes bearer tokens for one :class:`~nightowl.auth.Auth`.

    Args:
        lifetime: how long an access token is valid.
        refresh_lifetime: how long a refresh token is valid; ``None`` issues none.
    """

    #: The ``bearerFormat`` shown in OpenAPI.
    format: str = ""

    def __init__(
        self,
        *,
        lifetime: timedelta = timedelta(minutes=15),
        refresh_lifetime: timedelta | None = timedelta(days=14),
    ) -> None:
        if lifetime <= timedelta(0):
            raise ImproperlyConfigured(f"A token lifetime must be positive, not {lifetime}.")
        if refresh_lifetime is not None and refresh_lifetime <= timedelta(0):
            raise ImproperlyConfigured(
                f"A refresh token lifetime must be positive (or None), not {refresh_lifetime}."
            )
        self.lifetime = lifetime
        self.refresh_lifetime = refresh_lifetime
        self._auth: AuthAPI | None = None
        #: The header keyword, answered as ``token_type``.
        self.keyword = "Bearer"

    def bind(self, auth: AuthAPI, keyword: str = "Bearer") -> None:
        """Attach to the :class:`~nightowl.auth.Auth` whose users the tokens are for."""
        if self._auth is not None and self._auth is not auth:
            raise ImproperlyConfigured("A token backend serves one Auth(app); make another.")
        self._auth = auth
        self.keyword = keyword

    @property
    def auth(self) -> AuthAPI:
        """The :class:`~nightowl.auth.Auth` the backend is bound to."""
        if self._auth is None:
            raise ImproperlyConfigured("This token backend is not used by any Auth(app) yet.")
        return self._auth

    @property
    def can_issue(self) -> bool:
        """Whether this backend issues tokens (a JWT backend holding only a public key
        checks tokens another service issues: the app has no ``/auth/token`` then)."""
        return True

    @abstractmethod
    async def issue(self, user: AbstractUser) -> TokenPair:
        """A new access token (and refresh token) for ``user``, a family of their own."""

    @abstractmethod
    async def user_for(self, token: str) -> AbstractUser | None:
        """The active user of a valid access token; ``None`` for a token that is wrong,
        expired, revoked, a refresh token, or of a changed password."""

    @abstractmethod
    async def refresh(self, refresh_token: str) -> TokenPair | None:
        """A new pair for a valid refresh token, which is spent; ``None`` when it is not
        valid. Presenting a spent refresh token again revokes its whole family (someone
        holds a stolen copy)."""

    @abstractmethod
    async def revoke(self, token: str) -> bool:
        """Revoke an access or refresh token (a refresh token with its family); ``False``
        when it is not a valid token."""

    async def clear_expired(self) -> int:
        """Delete what is kept about tokens that have expired; the number of rows."""
        return 0


class BearerAuthenticator(Authenticator):
    """Reads ``Authorization: <keyword> <token>`` and asks a :class:`TokenBackend`.

    A request without that header is left to the next authenticator; a token that is
    wrong, expired or revoked answers 401 with ``WWW-Authenticate: Bearer
    error="invalid_token"`` (RFC 6750).

    Args:
        tokens: the backend that checks the tokens.
        keyword: the word before the token (``Bearer``; ``Token`` as in Django REST
            framework).
    """

    def __init__(self, tokens: TokenBackend, *, keyword: str = "Bearer") -> None:
        if not keyword or not keyword.isalnum():
            raise ImproperlyConfigured(f"A header keyword is a single word, not {keyword!r}.")
        self.tokens = tokens
        self.keyword = keyword
        self._lower = keyword.lower()
        self.challenge = keyword
        self._scheme: SecurityScheme | None = None

    def security_scheme(self, auth: AuthAPI) -> SecurityScheme | None:
        """OAuth2's password flow at ``/auth/token`` when the app issues these tokens
        (what ``/docs`` Authorize uses), else a plain bearer scheme."""
        if self._scheme is None:
            from nightowl.security import HTTPBearer, OAuth2PasswordBearer

            if auth.tokens is self.tokens and self.tokens.can_issue:
                self._scheme = OAuth2PasswordBearer(
                    f"{auth.prefix}/token",
                    scheme_name="OAuth2",
                    description=(
                        f"A user name and password traded at {auth.prefix}/token for a "
                        f"token, sent as 'Authorization: {self.keyword} <token>'."
                    ),
                    auto_error=False,
                )
            else:
                self._scheme = HTTPBearer(
                    bearer_format=self.tokens.format or None,
                    scheme_name=f"{self.keyword}Token",
                    auto_error=False,
                )
        return self._scheme

    async def authenticate(self, request: Request, auth: AuthAPI) -> AbstractUser | None:
        """The token's user; 401 for a token that is not valid."""
        value = request.headers.get("authorization")
        if not value:
            return None
        scheme, _, credential = value.partition(" ")
        if scheme.lower() != self._lower:
            return None
        credential = credential.strip()
        user = None
        if credential and len(credential) <= MAX_TOKEN_LENGTH:
            user = await self.tokens.user_for(credential)
        if user is None:
            raise NotAuthenticated(
                "Invalid, expired or revoked token.",
                challenge=f'{self.keyword} error="invalid_token"',
            )
        return user
