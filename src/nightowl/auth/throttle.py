"""Throttling failed logins, per account and per client address.

After ``max_per_account`` failures for one login name, or ``max_per_client`` from one
address, within ``window`` seconds, logins answer 429 with ``Retry-After`` until the
window ends; a successful login clears the account's count. Counts live in memory (one
process) or, with ``Auth(app, throttle="redis://...")``, in Redis, so every worker and
host shares them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from nightowl._redis import LoopClients
from nightowl.exceptions import HTTPException, ImproperlyConfigured

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("nightowl.auth")

__all__ = [
    "LoginThrottle",
    "MemoryThrottleStore",
    "RedisThrottleStore",
    "ThrottleStore",
    "TooManyAttempts",
]


class TooManyAttempts(HTTPException):
    """429: too many failed logins; ``Retry-After`` says when to try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            "Too many failed login attempts. Try again later.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class ThrottleStore(ABC):
    """Counts events per key in fixed windows."""

    @abstractmethod
    async def hit(self, key: str, window: int) -> None:
        """Count one event for ``key``; its count ends ``window`` seconds after the first."""

    @abstractmethod
    async def get(self, key: str) -> tuple[int, int]:
        """``(count, seconds until the count ends)`` for ``key``; ``(0, 0)`` when none."""

    @abstractmethod
    async def reset(self, key: str) -> None:
        """Forget ``key``'s count."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections (called at shutdown)."""


class MemoryThrottleStore(ThrottleStore):
    """Counts in this process's memory (the default; one worker)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}

    async def hit(self, key: str, window: int) -> None:
        """Count one event."""
        now = time.monotonic()
        count, ends = self._counts.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window
        self._counts[key] = (count + 1, ends)
        if len(self._counts) > 100_000:  # bounded: drop what has expired
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}

    async def get(self, key: str) -> tuple[int, int]:
        """The count and the seconds left."""
        count, ends = self._counts.get(key, (0, 0.0))
        left = ends - time.monotonic()
        return (count, math.ceil(left)) if left > 0 else (0, 0)

    async def reset(self, key: str) -> None:
        """Forget the count."""
        self._counts.pop(key, None)


class RedisThrottleStore(ThrottleStore):
    """Counts in Redis, shared by every worker (``pip install 'nightowl[redis]'``).

    Args:
        url: ``redis://host:6379/0``.
        prefix: of the keys.
    """

    def __init__(self, url: str, *, prefix: str = "nightowl:auth:throttle:") -> None:
        self.url = url
        self.prefix = prefix
        self._clients = LoopClients(url, what="Throttling in Redis")

    @property
    def client(self) -> Redis:
        """The Redis client, made on first use (one per event loop)."""
        return self._clients.client

    async def hit(self, key: str, window: int) -> None:
        """INCR, and start the window on the first event."""
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            await pipe.execute()

    async def get(self, key: str) -> tuple[int, int]:
        """The count and the seconds left."""
        name = self.prefix + key
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            value, ttl = await pipe.execute()
        if value is None or ttl is None or ttl < 0:
            return 0, 0
        return int(value), int(ttl)

    async def reset(self, key: str) -> None:
        """DEL the key."""
        await self.client.delete(self.prefix + key)

    async def close(self) -> None:
        """Close the connection pools."""
        await self._clients.aclose()


@contextlib.asynccontextmanager
async def _store_errors() -> AsyncIterator[None]:
    """A store that cannot be reached (Redis down) refuses logins with a 503: counting
    nothing would let a password guesser through."""
    try:
        yield
    except HTTPException:
        raise
    except Exception as exc:
        logger.error("The login throttle's store failed: %s: %s", type(exc).__name__, exc)
        raise HTTPException(
            503,
            "Logging in is unavailable for a moment. Try again shortly.",
            headers={"Retry-After": "30"},
        ) from None


def _key(kind: str, value: str) -> str:
    # Hashed: login names are user input, and keys should not hold them in clear.
    return kind + ":" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


class LoginThrottle:
    """Refuses logins after too many failures (see the module docs).

    Args:
        store: where counts live; :class:`MemoryThrottleStore` by default.
        max_per_account: failures allowed for one login name within the window.
        max_per_client: failures allowed from one address within the window.
        window: seconds.
    """

    def __init__(
        self,
        store: ThrottleStore | str | None = None,
        *,
        max_per_account: int = 5,
        max_per_client: int = 20,
        window: int = 900,
    ) -> None:
        if isinstance(store, str):
            store = RedisThrottleStore(store)
        self.store = store or MemoryThrottleStore()
        self.max_per_account = max_per_account
        self.max_per_client = max_per_client
        self.window = window

    def _keys(self, username: str, client: str | None) -> list[tuple[str, int]]:
        keys = [(_key("account", username.strip().lower()), self.max_per_account)]
        if client:
            keys.append((_key("client", client), self.max_per_client))
        return keys

    async def check(self, username: str, client: str | None) -> None:
        """Raise :class:`TooManyAttempts` (429) when the account or client is throttled."""
        async with _store_errors():
            for key, limit in self._keys(username, client):
                count, left = await self.store.get(key)
                if count >= limit:
                    raise TooManyAttempts(max(left, 1))

    async def failed(self, username: str, client: str | None) -> None:
        """Count a failed login."""
        async with _store_errors():
            for key, _ in self._keys(username, client):
                await self.store.hit(key, self.window)

    async def succeeded(self, username: str, client: str | None) -> None:
        """Forget the account's failures (the client's stay)."""
        async with _store_errors():
            await self.store.reset(self._keys(username, None)[0][0])

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    def __repr__(self) -> str:
        return f"<LoginThrottle {type(self.store).__name__} {self.max_per_account}/{self.window}s>"


def throttle_from(value: Any) -> LoginThrottle | None:
    """The throttle ``Auth(app, throttle=...)`` asks for: ``True``/``None`` (memory), a
    ``redis://`` URL, a :class:`ThrottleStore` or a :class:`LoginThrottle`; ``False`` for none."""
    if value is False:
        return None
    if value is None or value is True:
        return LoginThrottle()
    if isinstance(value, LoginThrottle):
        return value
    if isinstance(value, ThrottleStore):
        return LoginThrottle(value)
    if isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://")):
        return LoginThrottle(value)
    raise ImproperlyConfigured(
        f"Auth(throttle=...) takes True, False, a redis:// URL, a ThrottleStore or a "
        f"LoginThrottle, not {value!r}."
    )
