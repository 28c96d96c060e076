"""The cache API: JSON values under prefixed keys, counters, and a stampede lock."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nightowl.cache.backends import CacheBackend, MemoryBackend, RedisBackend
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["Cache"]

_MISSING: Any = object()


class Cache:
    """An async cache of JSON values.

    Values are stored as JSON, never pickled: a shared cache that anyone who reaches
    Redis can write to must not be able to run code in the app. ``dict``, ``list``,
    ``str``, numbers, ``bool`` and ``None`` go in and come back out as they were.

    Args:
        backend: where entries live; a :class:`MemoryBackend` by default.
        prefix: the start of every key, so apps can share one Redis.
        default_ttl: seconds an entry lives when :meth:`set` is given no ``ttl``.
    """

    def __init__(
        self,
        backend: CacheBackend | None = None,
        *,
        prefix: str = "nightowl:cache:",
        default_ttl: float | None = 300,
    ) -> None:
        self.backend = backend if backend is not None else MemoryBackend()
        self.prefix = prefix
        self.default_ttl = default_ttl

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Cache:
        """``"memory"`` (or ``"memory://"``) or a ``redis://``/``rediss://``/``unix://`` URL."""
        if url in ("memory", "memory://"):
            return cls(MemoryBackend(), **options)
        if url.startswith(("redis://", "rediss://", "unix://")):
            return cls(RedisBackend(url), **options)
        raise ImproperlyConfigured(
            f"Unknown cache {url!r}: use 'memory' or a redis:// URL (pip install 'nightowl[redis]')."
        )

    def _ttl(self, ttl: float | object | None) -> float | None:
        return self.default_ttl if ttl is _MISSING else ttl  # type: ignore[return-value]

    async def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default`` when absent or expired."""
        raw = await self.backend.get(self.prefix + key)
        return default if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float | None = _MISSING) -> None:
        """Store ``value`` for ``ttl`` seconds (``None``: until deleted)."""
        await self.backend.set(self.prefix + key, _encode(value), self._ttl(ttl))

    async def add(self, key: str, value: Any, ttl: float | None = _MISSING) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if stored (atomic)."""
        return await self.backend.add(self.prefix + key, _encode(value), self._ttl(ttl))

    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` if it was there."""
        return await self.backend.delete(self.prefix + key)

    async def increment(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Add ``delta`` to the counter under ``key`` (created at 0) and return it (atomic).

        ``ttl`` applies when the counter is created: ``increment("hits:42", ttl=60)``
        counts per minute window.
        """
        return await self.backend.increment(self.prefix + key, delta, ttl)

    async def clear(self) -> None:
        """Remove every entry under this cache's prefix."""
        await self.backend.clear(self.prefix)

    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        ttl: float | None = _MISSING,
        *,
        lock_timeout: float = 10.0,
    ) -> Any:
        """The value under ``key``; on a miss, ``await compute()`` once and store it.

        Concurrent misses (in every worker, with Redis) wait for the one that computes
        instead of all computing: a stampede runs ``compute`` once. If the computing
        request fails or takes longer than ``lock_timeout`` seconds, a waiter computes.
        """
        value = await self.get(key, _MISSING)
        if value is not _MISSING:
            return value
        async with self.lock(key, timeout=lock_timeout) as acquired:
            if not acquired:
                value = await self.get(key, _MISSING)
                if value is not _MISSING:
                    return value
            value = await compute()
            await self.set(key, value, ttl)
            return value

    def lock(self, key: str, *, timeout: float = 10.0) -> CacheLock:
        """A lock on ``key`` shared through the backend; see :class:`CacheLock`."""
        return CacheLock(self, key, timeout)

    async def close(self) -> None:
        """Release the backend's connections."""
        await self.backend.close()


class CacheLock:
    """Held by one task at a time, across workers when the backend is shared.

    ``async with cache.lock(key) as acquired``: ``acquired`` is ``True`` when this task
    took the lock, ``False`` when it waited for another holder to release it (so the
    value that holder computed can be read instead). After ``timeout`` seconds a lock
    expires, so a crashed holder never blocks the others for longer.
    """

    poll_interval = 0.01

    def __init__(self, cache: Cache, key: str, timeout: float) -> None:
        self.cache = cache
        self.key = "lock:" + key
        self.timeout = timeout
        self.token = secrets.token_hex(8)
        self.acquired = False

    async def __aenter__(self) -> bool:
        deadline = time.monotonic() + self.timeout
        waited = False
        while not await self.cache.add(self.key, self.token, self.timeout):
            waited = True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(self.poll_interval)
            if await self.cache.get(self.key) is None:
                return False  # released: the holder's value is there to read
        self.acquired = True
        return not waited

    async def __aexit__(self, *exc_info: object) -> None:
        if self.acquired and await self.cache.get(self.key) == self.token:
            await self.cache.delete(self.key)


def _encode(value: Any) -> bytes:
    try:
        return json.dumps(value, separators=(",", ":")).encode()
    except TypeError as exc:
        raise TypeError(f"The cache stores JSON values only: {exc}") from None
