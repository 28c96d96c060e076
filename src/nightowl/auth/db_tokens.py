"""Opaque bearer tokens kept in the database: ``Auth(app, tokens="database")``.

A token is 32 random bytes (``noa_...`` for access, ``nor_...`` for refresh); the
table ``auth_token`` keeps its SHA-256 digest, its user, kind, family, expiry and
revocation. Checking an access token is one query (the token joined to its user), and
revoking one takes effect at once, which a JWT cannot offer without a lookup of its
own. Refresh tokens are spent when used; presenting a spent one again revokes the
family (every token of that login).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from nightowl.auth.bearer import TokenBackend, TokenPair, password_check
from nightowl.auth.models import Token, utcnow
from nightowl.db import read_session

if TYPE_CHECKING:
    from nightowl.auth.models import AbstractUser

__all__ = ["DatabaseTokens"]

_PREFIXES = {"access": "noa_", "refresh": "nor_"}


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class DatabaseTokens(TokenBackend):
    """Opaque tokens in the ``auth_token`` table (see the module's docs).

    Args:
        lifetime: of an access token (15 minutes).
        refresh_lifetime: of a refresh token (14 days); ``None`` issues none.
    """

    format = "opaque"

    def _new(self, user: AbstractUser, kind: str, family: str, now: datetime) -> tuple[Token, str]:
        raw = _PREFIXES[kind] + secrets.token_urlsafe(32)
        lasting = self.lifetime if kind == "access" else (self.refresh_lifetime or self.lifetime)
        row = Token(
            user_id=user.id,
            kind=kind,
            digest=_digest(raw),
            family=family,
            password_check=password_check(self.auth.app, user),
            expires_at=now + lasting,
        )
        return row, raw

    def _pair(self, db: Session, user: AbstractUser, family: str) -> TokenPair:
        now = utcnow()
        access, raw_access = self._new(user, "access", family, now)
        db.add(access)
        raw_refresh = None
        if self.refresh_lifetime is not None:
            refresh, raw_refresh = self._new(user, "refresh", family, now)
            db.add(refresh)
        db.flush()
        return TokenPair(raw_access, int(self.lifetime.total_seconds()), raw_refresh, self.keyword)

    def _usable(self, user: AbstractUser | None, token: Token) -> bool:
        return (
            user is not None
            and user.is_active
            and hmac.compare_digest(token.password_check, password_check(self.auth.app, user))
        )

    async def issue(self, user: AbstractUser) -> TokenPair:
        """A new access token (and refresh token) for ``user``, saved as digests."""
        family = secrets.token_hex(16)
        return await self.auth.run_sync(lambda db: self._pair(db, user, family))

    async def user_for(self, token: str) -> AbstractUser | None:
        """The user of a valid access token: one query, the token joined to its user."""
        if not token.startswith(_PREFIXES["access"]):
            return None
        model = self.auth.user_model
        query = (
            select(model, Token)
            .join(Token, Token.user_id == model.id)
            .where(
                Token.digest == _digest(token),
                Token.kind == "access",
                Token.revoked_at.is_(None),
                Token.expires_at > utcnow(),
            )
        )
        async with read_session(self.auth.database) as session:
            row = (await session.execute(query)).first()
        if row is None or not self._usable(row[0], row[1]):
            return None
        user: AbstractUser = row[0]
        return user

    async def refresh(self, refresh_token: str) -> TokenPair | None:
        """A new pair; the refresh token is spent (reused: its family is revoked)."""
        if not refresh_token.startswith(_PREFIXES["refresh"]):
            return None
        model = self.auth.user_model

        def trade(db: Session) -> TokenPair | None:
            now = utcnow()
            found = db.scalars(
                select(Token).where(Token.digest == _digest(refresh_token), Token.kind == "refresh")
            ).first()
            if found is None or found.expires_at <= now:
                return None
            spend = (
                update(Token)
                .where(Token.id == found.id, Token.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            result: Any = db.execute(spend)
            if not result.rowcount:  # spent before: a second holder, so end the family
                _revoke_family(db, found.family, now)
                return None
            user = db.get(model, found.user_id)
            if user is None or not self._usable(user, found):
                return None
            return self._pair(db, user, found.family)

        return await self.auth.run_sync(trade)

    async def revoke(self, token: str) -> bool:
        """Revoke an access token, or a refresh token and its whole family."""

        def work(db: Session) -> bool:
            found = db.scalars(select(Token).where(Token.digest == _digest(token))).first()
            if found is None:
                return False
            now = utcnow()
            if found.kind == "refresh":
                _revoke_family(db, found.family, now)
            else:
                db.execute(
                    update(Token)
                    .where(Token.id == found.id, Token.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
            return True

        return await self.auth.run_sync(work)

    async def revoke_user(self, user: AbstractUser) -> int:
        """Revoke every token of ``user`` (log them out of every program); how many."""
        statement = (
            update(Token)
            .where(Token.user_id == user.id, Token.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        result: Any = await self.auth.run_sync(lambda db: db.execute(statement))
        return int(result.rowcount or 0)

    async def clear_expired(self) -> int:
        """Delete the rows of tokens that have expired."""
        statement = delete(Token).where(Token.expires_at < utcnow())
        result: Any = await self.auth.run_sync(lambda db: db.execute(statement))
        return int(result.rowcount or 0)


def _revoke_family(db: Session, family: str, now: datetime) -> None:
    db.execute(
        update(Token)
        .where(Token.family == family, Token.revoked_at.is_(None))
        .values(revoked_at=now)
    )
