"""A cache in this process's memory: the default, for one worker and for tests."""

from __future__ import annotations

import time
from collections import OrderedDict

from nightowl.cache.backends._base import CacheBackend

__all__ = ["MemoryBackend"]


class MemoryBackend(CacheBackend):
    """Entries in a dict, least recently used dropped first beyond ``max_entries``.

    Each worker process has its own: use :class:`~nightowl.cache.RedisBackend` when
    several workers must share what is cached (and the stampede lock). Every method
    runs without awaiting, so each is atomic within the event loop.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        """The bytes under ``key`` unless absent or expired."""
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """Store ``value``, replacing what was there."""
        self._store(key, value, self._expiry(ttl))

    async def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store ``value`` if ``key`` is absent."""
        if self._live(key) is not None:
            return False
        self._store(key, value, self._expiry(ttl))
        return True

    async def delete(self, key: str) -> bool:
        """Remove ``key``."""
        return self._entries.pop(key, None) is not None

    async def increment(self, key: str, delta: int, ttl: float | None) -> int:
        """Add ``delta`` to the integer under ``key``, keeping its expiry."""
        entry = self._live(key)
        if entry is None:
            total, expires = delta, self._expiry(ttl)
        else:
            total, expires = int(entry[0]) + delta, entry[1]
        self._store(key, str(total).encode(), expires)
        return total

    async def clear(self, prefix: str) -> None:
        """Remove the keys that start with ``prefix``."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
