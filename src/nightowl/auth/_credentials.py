"""The part of ``Auth``'s Python API that makes credentials for programs: API keys and
bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from nightowl.auth.bearer import TokenBackend, TokenPair
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.auth.models import AbstractUser, APIKey

__all__ = ["CredentialsAPI"]

T = TypeVar("T")


class CredentialsAPI:
    """API keys and bearer tokens, for :class:`~nightowl.auth.Auth`."""

    tokens: TokenBackend | None

    async def run_sync(self, work: Callable[[Session], T]) -> T:
        raise NotImplementedError  # Auth's

    # -- API keys ----------------------------------------------------------------------------
    async def create_api_key(
        self, user: AbstractUser, *, name: str = "", expires_in: timedelta | None = None
    ) -> tuple[APIKey, str]:
        """A new API key for ``user``: the saved row and the key itself, to show once
        (only its digest is stored). Requests send it in ``X-API-Key`` when the app has
        an :class:`~nightowl.auth.apikeys.APIKeyAuthenticator`."""
        from nightowl.auth.apikeys import make_key

        key, raw = make_key(user, name, expires_in)

        def save(db: Session) -> APIKey:
            db.add(key)
            db.flush()
            return key

        return await self.run_sync(save), raw

    async def revoke_api_key(self, prefix: str) -> bool:
        """Revoke the key whose prefix is ``prefix``; ``False`` if there is none (or it
        was revoked already)."""
        from nightowl.auth.apikeys import revoke

        return await self.run_sync(lambda db: revoke(db, prefix))

    # -- bearer tokens -------------------------------------------------------------------------
    def _token_backend(self) -> TokenBackend:
        if self.tokens is None:
            raise ImproperlyConfigured(
                'This app has no bearer tokens: Auth(app, tokens="jwt") (or "database").'
            )
        return self.tokens

    async def create_token(self, user: AbstractUser) -> TokenPair:
        """A new access token and refresh token for ``user``, as ``/auth/token`` issues
        them (``pair.access_token``, ``pair.refresh_token``, ``pair.expires_in``)."""
        return await self._token_backend().issue(user)

    async def refresh_token(self, refresh_token: str) -> TokenPair | None:
        """A new pair for a refresh token, which is spent; ``None`` when it is not valid
        (a spent one presented again revokes every token of its login)."""
        return await self._token_backend().refresh(refresh_token)

    async def revoke_token(self, token: str) -> bool:
        """Revoke an access token, or a refresh token with every token of its login;
        ``False`` when it is not a valid token."""
        return await self._token_backend().revoke(token)

    async def clear_expired_tokens(self) -> int:
        """Delete what the database keeps about expired tokens (run it now and then)."""
        return await self._token_backend().clear_expired()
