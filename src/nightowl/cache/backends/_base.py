"""What a cache backend stores: bytes under string keys, each with an optional expiry."""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["CacheBackend"]


class CacheBackend(ABC):
    """A place to keep bytes for a while.

    :class:`~nightowl.cache.Cache` encodes values (JSON) and prefixes keys; a backend
    only stores. ``ttl`` is in seconds; ``None`` keeps the entry until it is deleted.
    Every method must be safe to call from many requests at once: :meth:`add` and
    :meth:`increment` are atomic, as the stampede lock and counters rely on it.
    """

    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or ``None`` (absent or expired)."""

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """Store ``value`` under ``key``, replacing what was there."""

    @abstractmethod
    async def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if it was stored."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` if it was there."""

    @abstractmethod
    async def increment(self, key: str, delta: int, ttl: float | None) -> int:
        """Add ``delta`` to the integer under ``key`` (0 if absent) and return the sum.

        ``ttl`` applies when the key is created; later increments keep its expiry.
        """

    @abstractmethod
    async def clear(self, prefix: str) -> None:
        """Remove every key that starts with ``prefix``."""

    async def close(self) -> None:
        """Release connections (the app's shutdown calls it); nothing to do by default."""
        return None
