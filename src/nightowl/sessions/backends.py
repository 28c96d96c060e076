"""Where session data lives: in a signed cookie, or server-side with only an id in the cookie."""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CookieBackend",
    "RedisBackend",
    "ServerSideBackend",
    "SessionBackend",
    "SessionTooLarge",
]

#: Browsers drop a cookie whose name, value and attributes exceed 4096 bytes.
COOKIE_SIZE_LIMIT = 4096


class SessionTooLarge(Exception):
    """The session no longer fits in a cookie."""


def _dumps(data: dict[str, Any]) -> str:
    try:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Session values must be JSON-serialisable: {exc}") from None


class SessionBackend(ABC):
    """Stores session data and turns it into the value of the session cookie.

    ``load`` must never raise for a bad cookie: tampered, expired or unknown cookies
    give ``(None, {})``, an empty session.
    """

    secret_key: str = ""

    def bind(self, secret_key: str) -> None:
        """Receive the app's secret key (called once, before the first request)."""
        self.secret_key = secret_key

    @abstractmethod
    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """The session id and data a cookie value stands for."""

    @abstractmethod
    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Store ``data`` (under ``session_id``, or a new id if ``None``); return the cookie value."""

    async def delete(self, session_id: str | None) -> None:  # noqa: B027 - optional hook
        """Forget the session ``session_id`` (a no-op when the data lives in the cookie)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called at shutdown)."""


class CookieBackend(SessionBackend):
    """The whole session, signed (not encrypted) in the cookie: nothing to run on the server.

    The data is readable by the user, so keep secrets out of it. It must fit in about
    4 KB; :class:`SessionTooLarge` says so when it does not.
    """

    def __init__(self, salt: str = "nightowl.session") -> None:
        self.salt = salt
        self._serializer: URLSafeTimedSerializer | None = None

    def bind(self, secret_key: str) -> None:
        """Build the signer for ``secret_key``."""
        super().bind(secret_key)
        self._serializer = URLSafeTimedSerializer(
            secret_key,
            salt=self.salt,
            serializer=_JSON,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    @property
    def serializer(self) -> URLSafeTimedSerializer:
        """The itsdangerous serializer (raises until :meth:`bind` is called)."""
        if self._serializer is None:
            raise ImproperlyConfigured("The session backend has no secret key yet.")
        return self._serializer

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Verify the signature and age; an empty session if either fails."""
        try:
            data = self.serializer.loads(cookie, max_age=max_age)
        except (BadSignature, ValueError, UnicodeDecodeError):
            return None, {}
        return None, data if isinstance(data, dict) else {}

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Sign the data into the cookie value."""
        _dumps(data)  # a clear error for values JSON cannot hold
        value = self.serializer.dumps(data)
        assert isinstance(value, str)
        return value


class ServerSideBackend(SessionBackend):
    """The base of backends that keep the data on the server and a signed random id in
    the cookie (:class:`RedisBackend`, the database's ``DatabaseSessionBackend``).

    Subclasses implement :meth:`load`, :meth:`save` and :meth:`delete` with the helpers
    below: :meth:`unsign_id` turns the cookie into an id (``None`` if tampered),
    :meth:`new_id` makes one, :meth:`sign_id` makes the cookie value, and
    :meth:`encode`/:meth:`decode` turn the data into JSON text and back.
    """

    _signer: Signer | None = None

    def bind(self, secret_key: str) -> None:
        """Build the id signer for ``secret_key``."""
        super().bind(secret_key)
        self._signer = Signer(secret_key, salt="nightowl.session-id", digest_method=hashlib.sha256)

    def _require_signer(self) -> Signer:
        if self._signer is None:
            raise ImproperlyConfigured("The session backend has no secret key yet.")
        return self._signer

    @staticmethod
    def new_id() -> str:
        """A new random session id (256 bits)."""
        return secrets.token_urlsafe(32)

    def sign_id(self, session_id: str) -> str:
        """The cookie value for ``session_id``."""
        return self._require_signer().sign(session_id).decode("ascii")

    def unsign_id(self, cookie: str) -> str | None:
        """The session id in ``cookie``, or ``None`` when its signature does not match."""
        try:
            return self._require_signer().unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    @staticmethod
    def encode(data: dict[str, Any]) -> str:
        """``data`` as compact JSON text (a clear ``TypeError`` for values JSON cannot hold)."""
        return _dumps(data)

    @staticmethod
    def decode(raw: str | bytes) -> dict[str, Any] | None:
        """The data stored as ``raw``, or ``None`` when it is not a JSON object."""
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class RedisBackend(ServerSideBackend):
    """Sessions in Redis, so every worker on every host sees the same ones.

    The cookie holds only a signed random id; the data expires in Redis with the cookie.

    Args:
        url: a ``redis://`` URL (``redis://127.0.0.1:6379/0`` by default).
        client: an existing ``redis.asyncio.Redis`` client instead of ``url``.
        prefix: the start of every key this backend writes.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Redis | None = None,
        prefix: str = "nightowl:session:",
    ) -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImproperlyConfigured(
                "RedisBackend needs the redis package: pip install 'nightowl[redis]'"
            ) from None
        self.url = url
        self.prefix = prefix
        self._client = client

    @property
    def client(self) -> Redis:
        """The Redis client, created on first use."""
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.url)
        return self._client

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Check the id's signature, then fetch its data; ``(None, {})`` if unknown."""
        session_id = self.unsign_id(cookie)
        if session_id is None:
            return None, {}
        raw = await self.client.get(self.prefix + session_id)
        data = self.decode(raw) if raw is not None else None
        if data is None:
            return None, {}
        return session_id, data

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Write the data with an expiry of ``max_age`` seconds."""
        if session_id is None:
            session_id = self.new_id()
        await self.client.set(self.prefix + session_id, self.encode(data), ex=max_age)
        return self.sign_id(session_id)

    async def delete(self, session_id: str | None) -> None:
        """Remove the session's key."""
        if session_id is not None:
            await self.client.delete(self.prefix + session_id)

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _JSON:
    """A compact JSON serializer for itsdangerous."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return _dumps(obj)

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return json.loads(data)
