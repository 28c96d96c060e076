"""Channels over PostgreSQL: ``LISTEN/NOTIFY`` carries the messages, a table keeps the
recent ones, for apps that have PostgreSQL and no Redis."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nightowl.channels._message import ChannelsUnavailable
from nightowl.channels.backends._base import (
    Backend,
    Deliver,
    History,
    backoff_delays,
    sleep_or_stop,
)
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresBackend"]

logger = logging.getLogger("nightowl.channels")

# NOTIFY payloads stop at 8000 bytes: a larger message travels as its id alone, and the
# listeners read it from the table.
_INLINE_LIMIT = 7000

#: The ``application_name`` of the listening connection, as ``pg_stat_activity`` shows it.
LISTENER_NAME = "nightowl channels listener"


class PostgresBackend(Backend):
    """Every worker on every host sharing one PostgreSQL database gets every message
    (``App(channels="postgresql://user@host/db")``).

    Each channel is a ``LISTEN``/``NOTIFY`` channel named after a hash of its name; each
    message is also a row of the ``nightowl_channel_messages`` table (created when
    missing), whose ``id`` is the message id, trimmed to about ``history_size`` rows per
    channel. The listening connection is watched: when it drops, it is reopened with
    exponential backoff, the channels are listened to again and every subscriber gets a
    resync signal. Uses asyncpg.

    Args:
        url: a ``postgresql://`` URL (a ``+driver`` suffix is ignored).
        table: the name of the messages table.
        history_size: about how many messages each channel keeps.
        ping_interval: seconds between checks of the listening connection.
    """

    def __init__(
        self,
        url: str,
        *,
        table: str = "nightowl_channel_messages",
        history_size: int = 1000,
        ping_interval: float = 5.0,
    ) -> None:
        try:
            import asyncpg  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImproperlyConfigured(
                "The PostgreSQL channels backend needs asyncpg: pip install 'nightowl[postgres]'"
            ) from None
        scheme, rest = url.split("://", 1)
        self.url = scheme.split("+", 1)[0] + "://" + rest
        if not table.isidentifier():
            raise ImproperlyConfigured(f"Not a table name: {table!r}")
        self.table = table
        self.history_size = history_size
        self.ping_interval = ping_interval
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wanted: dict[str, str] = {}  # LISTEN channel -> channel
        self._deliver: Deliver | None = None
        self._resync: Callable[[], None] | None = None
        self._published = 0
        self._backlog: deque[tuple[str, str, str]] = deque()
        self._drainer: asyncio.Task[None] | None = None

    @staticmethod
    def _topic(channel: str) -> str:
        return "nightowl_" + hashlib.sha256(channel.encode()).hexdigest()[:40]

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        """Create the table when missing, open the pool and start the listener."""
        import asyncpg

        self._deliver = deliver
        self._resync = resync
        self._stopping = asyncio.Event()
        self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=4)
        async with self._pool.acquire() as connection, connection.transaction():
            # Two workers starting at once must not both create the table.
            await connection.execute("SELECT pg_advisory_xact_lock(7140001)")
            await connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                " id bigserial PRIMARY KEY, channel text NOT NULL, payload text NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now())"
            )
            await connection.execute(
                f"CREATE INDEX IF NOT EXISTS {self.table}_channel_id ON {self.table} (channel, id)"
            )
        connected = asyncio.get_running_loop().create_future()
        self._task = asyncio.get_running_loop().create_task(self._run(connected))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(connected), 5)

    async def stop(self) -> None:
        """Stop the listener and close the connections."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait((self._task,))
            self._task = None
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.wait((self._drainer,))
            self._drainer = None
        self._backlog.clear()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        self._wanted.clear()

    async def listen(self, channel: str) -> None:
        """``LISTEN`` to ``channel``'s notification channel."""
        topic = self._topic(channel)
        self._wanted[topic] = channel
        listener = self._listener
        if listener is None:
            return  # listened to on reconnection; the subscriber gets a resync then
        try:
            await listener.add_listener(topic, self._notified)
        except Exception as exc:
            logger.warning("Could not listen to %s yet: %s", channel, exc)

    async def unlisten(self, channel: str) -> None:
        """Stop listening to ``channel``."""
        topic = self._topic(channel)
        self._wanted.pop(topic, None)
        if self._listener is not None:
            await self._listener.remove_listener(topic, self._notified)

    async def publish(self, channel: str, json: str) -> str:
        """Insert the message and notify, in one statement (so one transaction)."""
        import asyncpg

        if self._pool is None:
            raise RuntimeError("The PostgreSQL channels backend is not started.")
        try:
            message_id = await self._publish(channel, json)
        except (
            OSError,
            asyncpg.InterfaceError,
            asyncpg.PostgresConnectionError,
            asyncpg.OperatorInterventionError,  # the server is shutting down
        ) as exc:
            raise ChannelsUnavailable(f"PostgreSQL cannot be reached: {exc}") from exc
        self._published += 1
        if self._published % 100 == 0:
            await self._trim(channel, message_id)
        return str(message_id)

    async def _publish(self, channel: str, json: str) -> int:
        assert self._pool is not None
        message_id: int = await self._pool.fetchval(
            f"WITH m AS (INSERT INTO {self.table} (channel, payload) VALUES ($1, $2) RETURNING id)"
            " SELECT m.id FROM m, LATERAL (SELECT pg_notify($3, m.id::text || ' ' ||"
            f" CASE WHEN octet_length($2) <= {_INLINE_LIMIT} THEN $2 ELSE '' END)) AS n",
            channel,
            json,
            self._topic(channel),
        )
        return message_id

    async def _trim(self, channel: str, newest: int) -> None:
        assert self._pool is not None
        await self._pool.execute(
            f"DELETE FROM {self.table} WHERE channel = $1 AND id < ("
            f" SELECT id FROM {self.table} WHERE channel = $1 ORDER BY id DESC"
            " OFFSET $2 LIMIT 1)",
            channel,
            self.history_size - 1,
        )

    async def history(self, channel: str, after: str) -> History:
        """The messages after ``after`` still in the table."""
        assert self._pool is not None
        try:
            number = int(after)
        except ValueError:  # an id of another backend
            return [], False
        rows = await self._pool.fetch(
            f"SELECT id, payload FROM {self.table} WHERE channel = $1 AND id >= $2 ORDER BY id",
            channel,
            number,
        )
        complete = bool(rows) and rows[0]["id"] == number
        return [(str(row["id"]), row["payload"]) for row in rows if row["id"] > number], complete

    # -- the listener ----------------------------------------------------------------------------
    def _notified(self, connection: Any, pid: int, topic: str, payload: str) -> None:
        channel = self._wanted.get(topic)
        deliver = self._deliver
        if channel is None or deliver is None:
            return
        space = payload.index(" ")
        message_id, json = payload[:space], payload[space + 1 :]
        if json and not self._backlog:
            deliver(channel, message_id, json)
            return
        # A message too large for NOTIFY is read from the table; those after it wait
        # for it, so that every subscriber sees the order of publication.
        self._backlog.append((channel, message_id, json))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._backlog:
            channel, message_id, json = self._backlog[0]
            if not json and self._pool is not None:
                with contextlib.suppress(Exception):
                    json = await self._pool.fetchval(
                        f"SELECT payload FROM {self.table} WHERE id = $1", int(message_id)
                    )
            self._backlog.popleft()
            if json and self._deliver is not None:
                self._deliver(channel, message_id, json)

    async def _run(self, connected: asyncio.Future[None]) -> None:
        import asyncpg

        delays = backoff_delays()
        lost = False
        while not self._stopping.is_set():
            listener: asyncpg.Connection | None = None
            try:
                listener = await asyncpg.connect(
                    self.url, timeout=5, server_settings={"application_name": LISTENER_NAME}
                )
                closed = asyncio.Event()
                listener.add_termination_listener(_setter(closed))
                for topic in list(self._wanted):
                    await listener.add_listener(topic, self._notified)
                self._listener = listener
                if lost or self._wanted:
                    logger.info("Channels: connected to PostgreSQL again; subscribers resync.")
                    assert self._resync is not None
                    self._resync()
                if not connected.done():
                    connected.set_result(None)
                delays = backoff_delays()
                while not closed.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), self.ping_interval)
                    if not closed.is_set():
                        await listener.fetchval("SELECT 1", timeout=self.ping_interval)
                raise ConnectionError("the listening connection was closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not lost:
                    logger.warning("Channels: lost the connection to PostgreSQL: %s", exc)
                lost = True
            finally:
                self._listener = None
                if listener is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(listener.close(), 2)
                    if not listener.is_closed():
                        listener.terminate()
            if await sleep_or_stop(delays(), self._stopping):
                return


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    return lambda _connection: event.set()
