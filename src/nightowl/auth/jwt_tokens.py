"""JSON Web Tokens (pyjwt): ``Auth(app)``'s bearer tokens.

::

    auth = Auth(app)                                   # HS256, signed with the app's secret key
    auth = Auth(app, tokens=JWTTokens(algorithm="RS256", private_key=PEM, audience="api"))

What is checked, every time: the signature, with the one configured algorithm and key
(a token naming another algorithm, ``none`` included, is refused, so HS256/RS256 key
confusion cannot happen); ``exp``, ``iat``, ``aud``, ``iss``, ``sub`` and ``jti`` are
required, ``aud`` and ``iss`` must be this app's; the token is an access token (a refresh
token is not accepted as one); its ``jti`` and its family are not revoked; the user
exists, is active and has the password the token was issued under. The revocation check
and the user come from one query.

Refresh tokens are JWTs too, spent when used: the next refresh revokes the old ``jti``,
and presenting a spent one again revokes its whole family (its access tokens included).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy import bindparam, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nightowl.auth.bearer import TokenBackend, TokenPair, password_check
from nightowl.auth.models import RevokedToken, utcnow
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.auth.models import AbstractUser

__all__ = ["JWTTokens"]

_HMAC = ("HS256", "HS384", "HS512")
_ASYMMETRIC = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
_REQUIRED = ["exp", "iat", "aud", "iss", "sub", "jti"]


def _public_key_of(algorithm: str, private_key: Any) -> Any:
    try:
        loaded = jwt.get_algorithm_by_name(algorithm).prepare_key(private_key)
    except NotImplementedError:  # pragma: no cover - depends on the installed extras
        raise ImproperlyConfigured(
            f"JWT algorithm {algorithm} needs cryptography: pip install 'pyjwt[crypto]'."
        ) from None
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"JWTTokens(private_key=...) is not a {algorithm} private key: {exc}"
        ) from None
    if not hasattr(loaded, "public_key"):
        raise ImproperlyConfigured(f"JWTTokens(private_key=...) is not a {algorithm} private key.")
    return loaded.public_key()


class JWTTokens(TokenBackend):
    """Bearer tokens as signed JWTs (see the module's docs for what is checked).

    Args:
        algorithm: the one algorithm tokens are signed and checked with: ``HS256``
            (the default), ``HS384``, ``HS512``, or an asymmetric one (``RS256``,
            ``ES256``, ``EdDSA``...; these need ``pip install 'pyjwt[crypto]'``).
        secret_key: the HMAC key; the app's secret key by default.
        private_key: for asymmetric algorithms, the PEM private key that signs.
        public_key: for asymmetric algorithms, the PEM public key that checks
            (derived from ``private_key`` when not given; alone, it checks tokens that
            another service issues, and this app issues none).
        audience: the ``aud`` tokens are issued for and must carry.
        issuer: the ``iss`` tokens are issued by and must carry.
        lifetime: of an access token (15 minutes).
        refresh_lifetime: of a refresh token (14 days); ``None`` issues none.
        leeway: clock skew tolerated when checking ``exp``.
    """

    format = "JWT"

    def __init__(
        self,
        *,
        algorithm: str = "HS256",
        secret_key: str | bytes | None = None,
        private_key: Any = None,
        public_key: Any = None,
        audience: str = "nightowl",
        issuer: str = "nightowl",
        lifetime: timedelta = timedelta(minutes=15),
        refresh_lifetime: timedelta | None = timedelta(days=14),
        leeway: timedelta = timedelta(0),
    ) -> None:
        super().__init__(lifetime=lifetime, refresh_lifetime=refresh_lifetime)
        if algorithm in _HMAC:
            if private_key is not None or public_key is not None:
                raise ImproperlyConfigured(
                    f"JWTTokens(algorithm={algorithm!r}) signs with a shared secret_key; "
                    "private_key and public_key are for RS256, ES256 and the like."
                )
        elif algorithm in _ASYMMETRIC:
            if secret_key is not None:
                raise ImproperlyConfigured(
                    f"JWTTokens(algorithm={algorithm!r}) signs with private_key and checks "
                    "with public_key, not a secret_key."
                )
            if private_key is None and public_key is None:
                raise ImproperlyConfigured(
                    f"JWTTokens(algorithm={algorithm!r}) needs private_key (to issue tokens) "
                    "or public_key (to check them)."
                )
            if public_key is None:
                public_key = _public_key_of(algorithm, private_key)
        else:
            raise ImproperlyConfigured(
                f"JWTTokens(algorithm=...) takes one of {', '.join(_HMAC + _ASYMMETRIC)}, "
                f"not {algorithm!r}."
            )
        if not audience or not issuer:
            raise ImproperlyConfigured("JWTTokens needs an audience and an issuer.")
        self.algorithm = algorithm
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        self._secret_key = secret_key
        self._private_key = private_key
        self._public_key = public_key
        self._query: Any = None

    # -- keys ---------------------------------------------------------------------------------
    @property
    def can_issue(self) -> bool:
        """``False`` with a public key alone."""
        return self.algorithm in _HMAC or self._private_key is not None

    def _signing_key(self) -> Any:
        if self.algorithm in _HMAC:
            return self._hmac_key()
        if self._private_key is None:
            raise ImproperlyConfigured(
                "This JWTTokens only checks tokens (it has a public_key and no private_key)."
            )
        return self._private_key

    def _verifying_key(self) -> Any:
        return self._hmac_key() if self.algorithm in _HMAC else self._public_key

    def _hmac_key(self) -> str | bytes:
        if self._secret_key is not None:
            return self._secret_key
        from nightowl.sessions import secret_key_for

        return secret_key_for(self.auth.app)

    # -- making and reading -------------------------------------------------------------------
    def _encode(self, user: AbstractUser, kind: str, family: str, lifetime: timedelta) -> str:
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user.id),
            "iat": now,
            "exp": now + lifetime,
            "jti": secrets.token_urlsafe(16),
            "token_type": kind,
            "family": family,
            "pwd": password_check(self.auth.app, user),
        }
        return jwt.encode(claims, self._signing_key(), algorithm=self.algorithm)

    def _pair(self, user: AbstractUser, family: str) -> TokenPair:
        refresh = None
        if self.refresh_lifetime is not None:
            refresh = self._encode(user, "refresh", family, self.refresh_lifetime)
        access = self._encode(user, "access", family, self.lifetime)
        return TokenPair(access, int(self.lifetime.total_seconds()), refresh, self.keyword)

    def decode(self, token: str, kind: str = "access") -> dict[str, Any] | None:
        """The claims of a well-signed, unexpired token of ``kind`` for this app, else
        ``None`` (nothing is looked up: revocation and the user are not checked)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._verifying_key(),
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("token_type") != kind or not isinstance(claims.get("family"), str):
            return None
        return claims

    async def _load(self, claims: dict[str, Any]) -> tuple[AbstractUser | None, bool]:
        """The user of ``claims`` and whether the token or its family is revoked: one query."""
        try:
            user_id = int(claims["sub"])
        except (TypeError, ValueError):
            return None, False
        auth = self.auth
        if self._query is None:
            # Built once: the statement is the same for every request, only values change.
            # Two plain parameters rather than an expanding IN: the SQL is compiled once.
            rows = auth.user_rows
            jti = RevokedToken.jti
            either = or_(jti == bindparam("jti"), jti == bindparam("family"))
            revoked = select(RevokedToken.id).where(either).exists()
            self._query = select(*rows.columns, revoked).where(rows.key == bindparam("user_id"))
        values = {"user_id": user_id, "jti": str(claims["jti"]), "family": claims["family"]}
        row = await auth.reader.first(self._query, values)
        if row is None:
            return None, False
        return await auth.user_from_row(row[:-1]), bool(row[-1])

    def _usable(self, user: AbstractUser | None, claims: dict[str, Any]) -> bool:
        return (
            user is not None
            and user.is_active
            and hmac.compare_digest(str(claims.get("pwd", "")), password_check(self.auth.app, user))
        )

    # -- the backend's interface ----------------------------------------------------------------
    async def issue(self, user: AbstractUser) -> TokenPair:
        """A new access token (and refresh token) for ``user``."""
        return self._pair(user, secrets.token_urlsafe(16))

    async def user_for(self, token: str) -> AbstractUser | None:
        """The user of a valid, unrevoked access token."""
        claims = self.decode(token)
        if claims is None:
            return None
        user, revoked = await self._load(claims)
        if revoked or not self._usable(user, claims):
            return None
        return user

    async def refresh(self, refresh_token: str) -> TokenPair | None:
        """A new pair; the refresh token is spent (reused: its family is revoked)."""
        claims = self.decode(refresh_token, "refresh")
        if claims is None:
            return None
        user, revoked = await self._load(claims)
        if revoked:
            await self._revoke([claims["family"]], self.refresh_lifetime)
            return None
        if user is None or not self._usable(user, claims):
            return None
        if not await self._revoke([str(claims["jti"])], None, claims["exp"]):
            # Spent by a concurrent refresh a moment ago: a second holder, so end them all.
            await self._revoke([claims["family"]], self.refresh_lifetime)
            return None
        return self._pair(user, claims["family"])

    async def revoke(self, token: str) -> bool:
        """Revoke an access token, or a refresh token and its whole family."""
        claims = self.decode(token) or self.decode(token, "refresh")
        if claims is None:
            return False
        if claims["token_type"] == "refresh":
            await self._revoke([claims["family"]], self.refresh_lifetime)
        else:
            await self._revoke([str(claims["jti"])], None, claims["exp"])
        return True

    async def _revoke(self, ids: Sequence[str], lasting: timedelta | None, exp: Any = None) -> bool:
        """Record revoked ids; ``False`` when one was revoked already."""
        if exp is not None:
            until = datetime.fromtimestamp(int(exp), UTC).replace(tzinfo=None)
        else:
            until = utcnow() + (lasting or self.lifetime) + self.lifetime

        def save(db: Session) -> None:
            for jti in ids:
                if db.scalars(select(RevokedToken.id).where(RevokedToken.jti == jti)).first():
                    raise IntegrityError("revoked already", None, Exception(jti))
                db.add(RevokedToken(jti=jti, expires_at=until))
            db.flush()

        try:
            await self.auth.run_sync(save)
        except IntegrityError:
            return False
        return True

    async def clear_expired(self) -> int:
        """Delete revoked ids whose tokens have expired anyway."""
        statement = delete(RevokedToken).where(RevokedToken.expires_at < utcnow())
        result: Any = await self.auth.run_sync(lambda db: db.execute(statement))
        return int(result.rowcount or 0)
