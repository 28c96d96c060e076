"""Sessions in Redis, shared by every worker and host."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nightowl._redis import LoopClients
from nightowl.sessions.backends._base import ServerSideBackend

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBackend"]


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
        self.url = url
        self.prefix = prefix
        self._clients = LoopClients(url, client=client, what="RedisBackend")

    @property
    def client(self) -> Redis:
        """The Redis client of the running event loop, created on first use there."""
        return self._clients.client

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
        """Close the connection pools."""
        await self._clients.aclose()
