"""``Channels``: publish once, and every subscriber in every worker on every host gets it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nightowl.channels._frames import RESYNC_FRAME, FrameWriter
from nightowl.channels._message import Message, message_id_key
from nightowl.channels._outbox import Outbox
from nightowl.channels._queue import OverflowPolicy, SubscriberQueue, fan_out
from nightowl.channels.backends._base import Backend
from nightowl.exceptions import ImproperlyConfigured
from nightowl.responses import dump_json

if TYPE_CHECKING:
    from nightowl.requests import HTTPConnection
    from nightowl.sse import EventSourceResponse
    from nightowl.websockets import WebSocket

__all__ = ["Channels", "Subscription"]

logger = logging.getLogger("nightowl.channels")
T = TypeVar("T")


class Channels:
    """Publish/subscribe between handlers, workers and hosts.

    ::

        channels = Channels("redis://127.0.0.1:6379/0")    # or App(channels="redis://...")

        await channels.publish("room:42", {"text": "hello"})

        async with channels.subscribe("room:42") as messages:
            async for message in messages:
                print(message.data)

    Args:
        backend: where messages travel: ``"memory://"`` (one process, the default),
            ``"redis://..."`` (every worker and host; Redis pub/sub plus a capped stream
            of recent messages per channel), ``"postgresql://..."`` (PostgreSQL's
            ``LISTEN/NOTIFY`` plus a table of recent messages), or a
            :class:`~nightowl.channels.backends.Backend`.
        max_queue: how many messages may wait for one subscriber before ``on_full``
            applies.
        on_full: the slow-consumer policy. ``"drop_oldest"`` (default) drops the oldest
            waiting message and hands the subscriber a resync signal in its place;
            ``"disconnect"`` ends its subscription with
            :class:`~nightowl.channels.SlowConsumer`. Publishing never waits for a subscriber.
        history_size: recent messages kept per channel for clients that resume.
        direct_writes: let :meth:`forward` write each message's frame straight to the
            connection when the server offers it (``nightowl serve`` and ``nightowl run``
            do, on connections without compression): the message is framed once per
            process and no task wakes per subscriber. Such writes skip the ASGI ``send``,
            so middleware wrapping ``send`` does not see them; ``False`` sends every
            message through ``send``.
    """

    def __init__(
        self,
        backend: str | Backend = "memory://",
        *,
        max_queue: int = 1000,
        on_full: OverflowPolicy = "drop_oldest",
        history_size: int = 1000,
        direct_writes: bool = True,
    ) -> None:
        if on_full not in ("drop_oldest", "disconnect"):
            raise ImproperlyConfigured(
                f"on_full must be 'drop_oldest' or 'disconnect', not {on_full!r}."
            )
        if max_queue < 2:
            raise ImproperlyConfigured(f"max_queue must be at least 2, not {max_queue!r}.")
        if isinstance(backend, str):
            from nightowl.channels.backends import backend_from_url

            backend = backend_from_url(backend, history_size=history_size)
        self.backend = backend
        self.max_queue = max_queue
        self.on_full: OverflowPolicy = on_full
        self.direct_writes = direct_writes
        self._subscribers: dict[str, set[SubscriberQueue]] = {}
        self._outbox = Outbox()
        self._listen_locks: dict[str, asyncio.Lock] = {}
        self._started = False
        self._start_lock: asyncio.Lock | None = None

    # -- life -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect the backend (done at the app's startup, or on first use)."""
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.backend.start(self._deliver, self._resync)
                self._started = True

    async def close(self) -> None:
        """Disconnect the backend and end every subscription (done at the app's shutdown)."""
        if not self._started:
            return
        self._started = False
        self._start_lock = None
        for queues in self._subscribers.values():
            for queue in queues:
                queue.fail(StopAsyncIteration())
        self._subscribers.clear()
        self._outbox.clear()
        self._listen_locks.clear()
        await self.backend.stop()

    async def __aenter__(self) -> Channels:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- publishing -----------------------------------------------------------------------------
    async def publish(self, channel: str, message: Any) -> str:
        """Send ``message`` to every subscriber of ``channel``; returns its id.

        ``message`` is anything JSON can carry: a dict, a list, a pydantic model, a
        dataclass... It is serialised once, here.
        """
        _check_name(channel)
        await self.start()
        return await self.backend.publish(channel, dump_json(message).decode("utf-8"))

    # -- subscribing ----------------------------------------------------------------------------
    def subscribe(self, *channels: str, last_id: str | None = None) -> Subscription:
        """Messages published on ``channels`` from now on, as :class:`Message` objects.

        ``async for message in channels.subscribe("room:42")`` receives them; ``async
        with channels.subscribe(...) as messages`` returns once the subscription is live
        (a message published after that is received), and ends it when the block ends.

        ``last_id`` (one channel only) resumes after that message: the messages after it
        still in the channel's history come first, then the live ones, with none twice;
        a resync signal first when some are no longer in the history.
        """
        if not channels:
            raise TypeError("subscribe() needs at least one channel.")
        for channel in channels:
            _check_name(channel)
        if last_id is not None and len(channels) != 1:
            raise TypeError("subscribe(last_id=...) resumes one channel, not several.")
        return Subscription(self, channels, last_id)

    def event_source(
        self,
        channel: str,
        request: HTTPConnection | None = None,
        *,
        last_id: str | None = None,
        event: str | None = None,
        ping: float | None = 15.0,
    ) -> EventSourceResponse:
        """An SSE response streaming ``channel``'s messages, resuming after the request's
        ``Last-Event-ID`` (or ``last_id``) from the channel's recent history.

        Each event carries the message's JSON as data and its id; ``event`` names the
        event type. A client that may have missed messages gets ``event: resync``.

        ::

            @app.get("/rooms/{room}/events")
            async def events(room: str, request: Request, channels: Channels):
                return channels.event_source(f"room:{room}", request)
        """
        from nightowl.channels._sse import ChannelEventSource

        if request is not None and last_id is None:
            last_id = request.headers.get("last-event-id") or None
        return ChannelEventSource(self.subscribe(channel, last_id=last_id), event, ping)

    async def forward(
        self,
        websocket: WebSocket,
        *channels: str,
        welcome: Any = None,
        on_receive: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        """Send ``channels``' messages to ``websocket`` until the client leaves.

        Each message goes as a text frame of its JSON; a resync signal as
        ``{"type":"resync"}``. The WebSocket is accepted if it is not yet; ``welcome`` is
        sent (as JSON) once the subscription is live; the client's JSON messages go to
        ``on_receive``, if given. Returns when the client disconnects.

        ::

            @app.websocket("/rooms/{room}")
            async def room(room: str, ws: WebSocket, channels: Channels):
                await channels.forward(ws, f"room:{room}")
        """
        from nightowl.channels._forward import forward_to_websocket

        await forward_to_websocket(
            websocket,
            self.subscribe(*channels),
            welcome=welcome,
            on_receive=on_receive,
            direct=self.direct_writes,
        )

    async def _attach(self, queue: SubscriberQueue) -> None:
        await self.start()
        for channel in queue.channels:
            lock = self._listen_locks.setdefault(channel, asyncio.Lock())
            async with lock:
                queues = self._subscribers.get(channel)
                if queues is None:
                    await self.backend.listen(channel)
                    queues = self._subscribers[channel] = set()
                queues.add(queue)

    async def _detach(self, queue: SubscriberQueue) -> None:
        # Messages still in the outbox for it must not reach a connection it has left.
        queue.writer = queue.direct = None
        for channel in queue.channels:
            queues = self._subscribers.get(channel)
            if queues is None:
                continue
            queues.discard(queue)
            if not queues:
                del self._subscribers[channel]
                if self._started:
                    lock = self._listen_locks.setdefault(channel, asyncio.Lock())
                    async with lock:
                        if channel not in self._subscribers:
                            with contextlib.suppress(Exception):
                                await self.backend.unlisten(channel)

    def _deliver(self, channel: str, message_id: str, json: str) -> None:
        queues = self._subscribers.get(channel)
        if queues:
            self._outbox.add(tuple(queues), Message(channel, message_id, json), json)

    def _resync(self) -> None:
        self._outbox.flush()  # what arrived before comes first
        for channel, queues in self._subscribers.items():
            fan_out(queues, Message.resync_signal(channel), RESYNC_FRAME)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions of this process are live (for metrics and tests)."""
        return len({queue for queues in self._subscribers.values() for queue in queues})


class Subscription:
    """A live subscription: an async iterator of :class:`Message`, and an async context
    manager that makes it live on entry. Made by :meth:`Channels.subscribe`."""

    def __init__(self, hub: Channels, channels: tuple[str, ...], last_id: str | None) -> None:
        self._hub = hub
        self.channels = channels
        self.last_id = last_id
        self._queue = SubscriberQueue(channels, hub.max_queue, hub.on_full)
        self._state = "new"
        self._backlog: list[Message] = []
        self._seen: tuple[int, ...] | None = None

    async def open(self) -> None:
        """Make the subscription live (and load the history to resume from)."""
        if self._state != "new":
            return
        self._state = "open"
        await self._hub._attach(self._queue)
        if self.last_id is not None:
            await self._load_history(self.channels[0], self.last_id)

    async def _load_history(self, channel: str, last_id: str) -> None:
        try:
            self._seen = message_id_key(last_id)
        except ValueError:
            self._backlog.append(Message.resync_signal(channel))
            return
        entries, complete = await self._hub.backend.history(channel, last_id)
        if not complete:
            self._backlog.append(Message.resync_signal(channel))
        self._backlog.extend(Message(channel, id, json) for id, json in entries)

    def write_directly(self, writer: FrameWriter) -> None:
        """Let the fan-out write this subscription's messages to ``writer`` (a server's
        ``nightowl.broadcast`` extension) instead of queueing them, whenever nothing is
        waiting in the queue; what :meth:`Channels.forward` does. A resuming subscription
        (``last_id``) keeps the queue."""
        if self.last_id is None:
            self._queue.writer = writer

    async def aclose(self) -> None:
        """End the subscription."""
        if self._state == "open":
            self._state = "closed"
            await self._hub._detach(self._queue)
        self._state = "closed"

    async def __aenter__(self) -> Subscription:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        if self._state == "new":
            await self.open()
        elif self._state == "closed":
            raise StopAsyncIteration
        if self._backlog:
            message = self._backlog.pop(0)
            if message.id is not None:
                self._seen = message_id_key(message.id)
            return message
        try:
            while True:
                message = await self._queue.get()
                seen = self._seen
                if seen is not None and message.id is not None:
                    key = message_id_key(message.id)
                    if key <= seen:
                        continue  # already handed out from the history
                    self._seen = key
                return message
        except BaseException:
            await self.aclose()
            raise

    async def batches(self) -> AsyncGenerator[list[Message], None]:
        """The messages in batches: all those waiting at each wake-up (the fast way to
        forward a busy channel); ends like iterating does."""
        if self._state == "new":
            await self.open()
        try:
            if self._backlog:
                backlog, self._backlog = self._backlog, []
                for message in backlog:
                    if message.id is not None:
                        self._seen = message_id_key(message.id)
                yield backlog
            queue = self._queue
            while self._state == "open":
                if queue.writer is not None and not queue and queue.error is None:
                    queue.direct = queue.writer  # caught up: back to direct writes
                try:
                    batch = await queue.get_all()
                except StopAsyncIteration:
                    return
                seen = self._seen
                if seen is not None:
                    batch = [m for m in batch if m.id is None or message_id_key(m.id) > seen]
                    ids = [m.id for m in batch if m.id is not None]
                    if ids:
                        self._seen = message_id_key(ids[-1])
                if batch:
                    yield batch
        finally:
            await self.aclose()

    async def iter_models(self, model: type[T]) -> AsyncIterator[T | None]:
        """The messages validated as ``model``; ``None`` for a resync signal.

        A message that does not fit ``model`` is logged and skipped.
        """
        from pydantic import ValidationError

        async for message in self:
            if message.resync:
                yield None
                continue
            try:
                yield message.parse(model)
            except ValidationError as exc:
                logger.warning("Skipped a message of %s: %s", message.channel, exc)


def _check_name(channel: str) -> None:
    if not isinstance(channel, str) or not channel or len(channel) > 200:
        raise ValueError(
            f"A channel name is a non-empty str of at most 200 characters: {channel!r}"
        )
