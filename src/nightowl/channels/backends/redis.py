"""Channels over Redis: pub/sub carries the messages, a capped stream per channel keeps the
recent ones for clients that resume."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nightowl._redis import connect, require_redis
from nightowl.channels._message import ChannelsUnavailable
from nightowl.channels.backends._base import (
    Backend,
    Deliver,
    History,
    backoff_delays,
    sleep_or_stop,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["RedisBackend"]

logger = logging.getLogger("nightowl.channels")

# Keeps the message in the channel's stream and publishes it in one atomic step, so that
# the id a subscriber sees is the id a resuming client asks for.
_PUBLISH = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id
"""


class RedisBackend(Backend):
    """Every worker on every host sharing one Redis gets every message
    (``App(channels="redis://127.0.0.1:6379/0")``).

    Messages travel by Redis pub/sub; each is also added to a stream capped at about
    ``history_size`` entries (``XADD ... MAXLEN ~``), whose ids are the message ids. The
    pub/sub connection is watched: when it drops (Redis restarted, network cut), it is
    reopened with exponential backoff, the channels are subscribed again and every
    subscriber gets a resync signal.

    Args:
        url: a ``redis://`` (or ``rediss://``, ``unix://``) URL.
        prefix: the start of every key and pub/sub channel this backend uses.
        history_size: about how many messages each channel's stream keeps.
        ping_interval: seconds of silence after which the pub/sub connection is pinged,
            so that a dead connection is noticed.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "nightowl:channels:",
        history_size: int = 1000,
        ping_interval: float = 5.0,
    ) -> None:
        require_redis("The Redis channels backend")
        self.url = url
        self.prefix = prefix
        self.history_size = history_size
        self.ping_interval = ping_interval
        self._control = prefix + "~"
        self._client: Redis | None = None
        self._script: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._pubsub: PubSub | None = None
        self._wanted: set[str] = set()
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._deliver: Deliver | None = None
        self._resync: Callable[[], None] | None = None

    def _topic(self, channel: str) -> str:
        return self.prefix + "pub:" + channel

    def _stream(self, channel: str) -> str:
        return self.prefix + "history:" + channel

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        """Open the publishing client and start the pub/sub reader."""
        self._deliver = deliver
        self._resync = resync
        self._client = connect(self.url)
        self._script = self._client.register_script(_PUBLISH)
        self._stopping = asyncio.Event()
        connected = asyncio.get_running_loop().create_future()
        self._task = asyncio.get_running_loop().create_task(self._run(connected))
        # Wait a little for the first connection, so that the first subscriptions are
        # live at once; a Redis that is down makes no startup fail.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(connected), 5)

    async def stop(self) -> None:
        """Stop the reader and close the connections."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait((self._task,))
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._wanted.clear()

    async def listen(self, channel: str) -> None:
        """Subscribe to ``channel`` and wait for Redis to confirm it."""
        topic = self._topic(channel)
        self._wanted.add(topic)
        pubsub = self._pubsub
        if pubsub is None:
            return  # subscribed on reconnection; the subscriber gets a resync then
        future = self._pending.get(topic)
        if future is None or future.done():
            future = self._pending[topic] = asyncio.get_running_loop().create_future()
        try:
            await pubsub.subscribe(topic)
            await asyncio.wait_for(asyncio.shield(future), 5)
        except Exception as exc:  # the reader reconnects and subscribes it again
            logger.warning("Could not subscribe to %s yet: %s", channel, exc)

    async def unlisten(self, channel: str) -> None:
        """Unsubscribe from ``channel``."""
        topic = self._topic(channel)
        self._wanted.discard(topic)
        if self._pubsub is not None:
            await self._pubsub.unsubscribe(topic)

    async def publish(self, channel: str, json: str) -> str:
        """Add the message to the channel's stream and publish it, atomically."""
        from redis.exceptions import ConnectionError, TimeoutError

        if self._script is None:
            raise RuntimeError("The Redis channels backend is not started.")
        try:
            message_id = await self._script(
                keys=[self._stream(channel), self._topic(channel)], args=[json, self.history_size]
            )
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise ChannelsUnavailable(f"Redis cannot be reached: {exc}") from exc
        return message_id.decode() if isinstance(message_id, bytes) else str(message_id)

    async def history(self, channel: str, after: str) -> History:
        """The messages after ``after`` still in the channel's stream."""
        assert self._client is not None
        stream = self._stream(channel)
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.xrange(stream, after, after, count=1)
            pipe.xrange(stream, "(" + after, "+")
            anchor, entries = await pipe.execute()
        found = [(_text(id), _text(fields[b"m"])) for id, fields in entries]
        return found, bool(anchor)

    # -- the pub/sub reader ----------------------------------------------------------------------
    async def _run(self, connected: asyncio.Future[None]) -> None:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        delays = backoff_delays()
        lost = False
        while not self._stopping.is_set():
            listener = connect(self.url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2)
            pubsub = listener.pubsub()
            try:
                await pubsub.subscribe(self._control, *self._wanted)
                self._pubsub = pubsub
                if lost or self._wanted:
                    logger.info("Channels: connected to Redis again; subscribers resync.")
                    assert self._resync is not None
                    self._resync()
                if not connected.done():
                    connected.set_result(None)
                delays = backoff_delays()
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not lost:
                    logger.warning("Channels: lost the connection to Redis: %s", exc)
                lost = True
            finally:
                self._pubsub = None
                for future in self._pending.values():
                    if not future.done():
                        future.set_result(None)
                self._pending.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await listener.aclose()
            if await sleep_or_stop(delays(), self._stopping):
                return

    async def _read(self, pubsub: PubSub) -> None:
        deliver = self._deliver
        assert deliver is not None
        prefix = len(self._topic(""))
        waiting_pong = False
        while True:
            message = await pubsub.get_message(timeout=self.ping_interval)
            if message is None:
                if waiting_pong:
                    raise ConnectionError("Redis did not answer a ping.")
                await pubsub.ping()
                waiting_pong = True
                continue
            waiting_pong = False
            kind = message["type"]
            if kind == "message":
                data: bytes = message["data"]
                space = data.index(b" ")
                channel = _text(message["channel"])[prefix:]
                deliver(channel, data[:space].decode(), data[space + 1 :].decode("utf-8"))
            elif kind == "subscribe":
                future = self._pending.pop(_text(message["channel"]), None)
                if future is not None and not future.done():
                    future.set_result(None)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
