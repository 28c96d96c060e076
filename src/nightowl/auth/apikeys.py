"""API keys: ``X-API-Key: nok_<prefix>_<secret>`` resolves to the key's user.

::

    auth = Auth(app, authenticators=[APIKeyAuthenticator()])
    key, raw = await auth.create_api_key(user, name="deploy", expires_in=timedelta(days=90))
    print(raw)                  # shown once; only its digest is stored
    await auth.revoke_api_key(key.prefix)

A key that is unknown, revoked or expired, or whose user is inactive, answers 401 (a
credential was sent, and it is wrong); a request without the header is left to the next
authenticator. Keys are compared in constant time, and ``last_used_at`` is written at
most once a minute per key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from nightowl.auth.authenticators import Authenticator
from nightowl.auth.dependencies import NotAuthenticated
from nightowl.auth.models import AbstractUser, APIKey, utcnow
from nightowl.requests import Request

if TYPE_CHECKING:
    from nightowl.auth._protocol import AuthAPI
    from nightowl.security import SecurityScheme

__all__ = ["APIKeyAuthenticator", "digest", "find_key_user", "new_key"]

PREFIX = "nok_"


def digest(raw: str) -> str:
    """The SHA-256 hex digest kept for a key."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh ``(prefix, raw key)``: ``("3f9a0c1e", "nok_3f9a0c1e_<43 characters>")``."""
    prefix = secrets.token_hex(4)
    return prefix, f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def _prefix_of(raw: str) -> str | None:
    if not raw.startswith(PREFIX) or len(raw) > 200:
        return None
    prefix, underscore, secret = raw[len(PREFIX) :].partition("_")
    return prefix if underscore and prefix and secret else None


def find_key_user(
    db: Session, user_model: type[AbstractUser], raw: str, touch_after: float = 60.0
) -> AbstractUser | None:
    """The active user of a valid key, or ``None``; notes when the key was used (on a
    sync session: what :class:`APIKeyAuthenticator` does in one query)."""
    prefix = _prefix_of(raw)
    key = db.scalars(select(APIKey).where(APIKey.prefix == prefix)).first() if prefix else None
    now = utcnow()
    stored = (key.key_hash, key.revoked_at, key.expires_at) if key is not None else None
    if not _key_valid(raw, stored, now) or key is None:
        return None
    user = db.get(user_model, key.user_id)
    if user is None or not user.is_active:
        return None
    if _stale(key.last_used_at, now, touch_after):
        db.execute(update(APIKey).where(APIKey.id == key.id).values(last_used_at=now))
    return user


def _key_valid(raw: str, stored: Sequence[Any] | None, now: datetime) -> bool:
    """Whether ``raw`` is the key whose ``(key_hash, revoked_at, expires_at)`` are
    ``stored``, neither revoked nor expired."""
    # Compare even without a row, so a wrong prefix takes as long as a wrong secret.
    expected = stored[0] if stored is not None else "0" * 64
    if not hmac.compare_digest(expected, digest(raw)) or stored is None:
        return False
    revoked_at, expires_at = stored[1], stored[2]
    return revoked_at is None and (expires_at is None or expires_at > now)


def _stale(last_used_at: datetime | None, now: datetime, touch_after: float) -> bool:
    return last_used_at is None or (now - last_used_at).total_seconds() >= touch_after


class APIKeyAuthenticator(Authenticator):
    """Reads an API key from a header (``X-API-Key`` by default).

    Args:
        header: the header the key comes in.
        touch_after: seconds between two writes of a key's ``last_used_at``.
    """

    challenge = "APIKey"

    def __init__(self, header: str = "X-API-Key", *, touch_after: float = 60.0) -> None:
        from nightowl.security import APIKeyHeader

        self.header = header
        self.touch_after = touch_after
        self._query: tuple[Any, Any] | None = None
        self._scheme = APIKeyHeader(
            header,
            scheme_name="APIKey",
            description="An API key (nightowl createapikey USER).",
            auto_error=False,
        )

    def security_scheme(self, auth: AuthAPI) -> SecurityScheme | None:
        """The API key header."""
        return self._scheme

    async def authenticate(self, request: Request, auth: AuthAPI) -> AbstractUser | None:
        """The key's user; 401 for a key that is wrong, revoked or expired."""
        raw = request.headers.get(self.header)
        if not raw:
            return None
        user = await self._user_of(raw, auth)
        if user is None:
            raise NotAuthenticated("Invalid, revoked or expired API key.", challenge="APIKey")
        return user

    async def _user_of(self, raw: str, auth: AuthAPI) -> AbstractUser | None:
        """The active user of a valid key: the key and its user in one query, outside any
        transaction; ``last_used_at`` is written (in a transaction) when it is stale."""
        prefix = _prefix_of(raw)
        row = await auth.reader.first(self._query_for(auth), {"prefix": prefix}) if prefix else None
        now = utcnow()
        if not _key_valid(raw, row[1:4] if row is not None else None, now) or row is None:
            return None
        values = row[5:]
        if auth.user_rows.ident(values) is None:  # the key's user is gone
            return None
        user = await auth.user_from_row(values)
        if user is None or not user.is_active:
            return None
        if _stale(row[4], now, self.touch_after):
            touch = update(APIKey).where(APIKey.id == row[0]).values(last_used_at=now)
            await auth.run_sync(lambda db: db.execute(touch))
        return user

    def _query_for(self, auth: AuthAPI) -> Any:
        """``SELECT`` the key's columns this needs and its user's, by prefix (built once)."""
        if self._query is None or self._query[0] is not auth:
            rows = auth.user_rows
            keys: Any = APIKey.__table__
            query = (
                select(
                    keys.c.id,
                    keys.c.key_hash,
                    keys.c.revoked_at,
                    keys.c.expires_at,
                    keys.c.last_used_at,
                    *rows.columns,
                )
                .select_from(keys.outerjoin(rows.table, rows.key == keys.c.user_id))
                .where(keys.c.prefix == bindparam("prefix"))
            )
            self._query = (auth, query)
        return self._query[1]


def make_key(user: AbstractUser, name: str, expires_in: timedelta | None) -> tuple[APIKey, str]:
    """A new :class:`APIKey` row for ``user`` (not saved) and its raw key."""
    prefix, raw = new_key()
    expires_at: datetime | None = utcnow() + expires_in if expires_in is not None else None
    key = APIKey(
        user_id=user.id, name=name, prefix=prefix, key_hash=digest(raw), expires_at=expires_at
    )
    return key, raw


def revoke(db: Session, prefix: str) -> bool:
    """Revoke the key with ``prefix``; ``False`` when there is no such key."""
    result: Any = db.execute(
        update(APIKey)
        .where(APIKey.prefix == prefix, APIKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)
