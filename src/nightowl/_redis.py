"""Redis clients for the batteries: one way to make them, one client per event loop.

A ``redis.asyncio.Redis`` client keeps its connections on the event loop that opened
them; used from another loop (a second ``asyncio.run``, a test client's new loop, a
worker thread's loop) it fails with "Future attached to a different loop" or "Event loop
is closed". :class:`LoopClients` gives each running loop its own client made from one
URL, and forgets the clients of loops that have closed. :func:`connect` is the one place
a client is made, with the message that names the extra when ``redis`` is missing.

The cache, the sessions, the auth throttle, the channels and the tasks' Redis backends
all make their clients here.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LoopClients", "connect", "require_redis"]


def require_redis(what: str) -> None:
    """Check that the ``redis`` package is installed; ``what`` names the feature needing it
    in the message (``"The Redis cache"``)."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            f"{what} needs the redis package: pip install 'nightowl[redis]'."
        ) from None


def connect(url: str, *, what: str = "Redis", **options: Any) -> Redis:
    """A new ``redis.asyncio.Redis`` client for ``url`` (``options`` go to ``from_url``).

    Connections open on first use, on the event loop running then.
    """
    require_redis(what)
    from redis.asyncio import Redis

    return Redis.from_url(url, **options)


class LoopClients:
    """One Redis client per running event loop, all for the same URL.

    Args:
        url: a ``redis://`` (or ``rediss://``, ``unix://``) URL.
        client: an existing client to use instead, from every loop (it must then be
            used from one event loop only: the caller's choice).
        what: the feature using it, for the message when ``redis`` is missing.
        **options: more ``Redis.from_url`` options.
    """

    __slots__ = ("_clients", "_given", "options", "url", "what")

    def __init__(
        self, url: str, *, client: Redis | None = None, what: str = "Redis", **options: Any
    ) -> None:
        if client is None:
            require_redis(what)
        self.url = url
        self.what = what
        self.options = options
        self._given = client
        self._clients: dict[asyncio.AbstractEventLoop, Redis] = {}

    @property
    def client(self) -> Redis:
        """The client of the running event loop, made on its first use there."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]  # its connections went with its loop
            client = self._clients[loop] = connect(self.url, what=self.what, **self.options)
        return client

    async def aclose(self) -> None:
        """Close the clients made here (not a given one); the next use makes new ones."""
        clients, self._clients = self._clients, {}
        running = asyncio.get_running_loop()
        for loop, client in clients.items():
            if loop is running:
                await client.aclose()
            elif not loop.is_closed():
                # Its connections belong to a loop still running elsewhere: close them there.
                with contextlib.suppress(RuntimeError):
                    asyncio.run_coroutine_threadsafe(client.aclose(), loop)
