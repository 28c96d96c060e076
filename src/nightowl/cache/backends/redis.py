"""A cache in Redis, shared by every worker and host."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from nightowl._redis import LoopClients
from nightowl.cache.backends._base import CacheBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBackend"]

# INCRBY, and the expiry only when the key was just created: one atomic step.
_INCREMENT = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return total
"""


class RedisBackend(CacheBackend):
    """Entries in Redis with its own expiry, so every worker sees the same cache.

    Args:
        url: a ``redis://`` URL.
        client: an existing ``redis.asyncio.Redis`` client instead of ``url`` (it must be
            used from one event loop; with a URL, each event loop gets its own client).
    """

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", *, client: Redis | None = None
    ) -> None:
        self.url = url
        self._clients = LoopClients(url, client=client, what="The Redis cache")

    @property
    def client(self) -> Redis:
        """The client for the running event loop (a Redis connection belongs to one loop)."""
        return self._clients.client

    @staticmethod
    def _px(ttl: float | None) -> int | None:
        return None if ttl is None else max(1, math.ceil(ttl * 1000))

    async def get(self, key: str) -> bytes | None:
        """``GET``."""
        value = await self.client.get(key)
        return None if value is None else value if isinstance(value, bytes) else value.encode()

    async def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """``SET`` with ``PX``."""
        await self.client.set(key, value, px=self._px(ttl))

    async def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """``SET NX`` with ``PX``."""
        return bool(await self.client.set(key, value, px=self._px(ttl), nx=True))

    async def delete(self, key: str) -> bool:
        """``DEL``."""
        return bool(await self.client.delete(key))

    async def increment(self, key: str, delta: int, ttl: float | None) -> int:
        """``INCRBY``, with the expiry set when the key is created, in one script."""
        result = await self.client.eval(_INCREMENT, 1, key, delta, self._px(ttl) or 0)
        return int(result)

    async def clear(self, prefix: str) -> None:
        """Delete the keys under ``prefix`` (``SCAN``, never ``KEYS`` or ``FLUSHDB``)."""
        batch: list[bytes] = []
        async for key in self.client.scan_iter(match=_glob_escape(prefix) + "*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self.client.delete(*batch)
                batch.clear()
        if batch:
            await self.client.delete(*batch)

    async def close(self) -> None:
        """Close the connection pools this backend opened."""
        await self._clients.aclose()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
