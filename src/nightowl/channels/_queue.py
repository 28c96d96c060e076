"""A subscriber's bounded queue, and the policy for subscribers that read too slowly."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Literal

from nightowl.channels._frames import FrameWriter, text_frame
from nightowl.channels._message import Message, SlowConsumer

__all__ = ["OverflowPolicy", "SubscriberQueue", "fan_out"]

#: What happens when a subscriber's queue is full and another message arrives:
#: ``"drop_oldest"`` drops the oldest queued message and hands the subscriber a resync
#: signal in its place (the ``maxsize`` newest messages stay queued behind it);
#: ``"disconnect"`` ends the subscription with :class:`SlowConsumer`.
OverflowPolicy = Literal["drop_oldest", "disconnect"]


class SubscriberQueue:
    """Messages waiting for one subscriber; at most ``maxsize`` of them (plus a resync
    signal at the head once some were dropped).

    Publishing never waits for a subscriber: a slow one loses messages (and is told so
    with a resync signal) or is disconnected, but never slows the others down.
    """

    __slots__ = ("_items", "_waiter", "channels", "direct", "error", "maxsize", "policy", "writer")

    def __init__(self, channels: tuple[str, ...], maxsize: int, policy: OverflowPolicy) -> None:
        self.channels = channels
        self.maxsize = maxsize
        self.policy = policy
        self.error: BaseException | None = None
        self._items: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        #: The connection's frame writer, when the server offers one (see ``_frames``).
        self.writer: FrameWriter | None = None
        #: ``writer`` while the fan-out writes to it directly; ``None`` while messages
        #: wait here instead (the connection's buffer was full, or the forwarder has not
        #: caught up yet), so that they keep their order.
        self.direct: FrameWriter | None = None

    def put(self, message: Message) -> None:
        """Queue ``message``, applying the overflow policy when the queue is full."""
        if self.error is not None:
            return
        items = self._items
        full = len(items) >= self.maxsize
        if full and items[0].resync:
            full = len(items) > self.maxsize  # the signal at the head takes no place
        if full and not message.resync:
            if self.policy == "disconnect":
                self.error = SlowConsumer(
                    f"A subscriber of {', '.join(self.channels)} fell {self.maxsize} "
                    "messages behind and was disconnected."
                )
            else:
                # The subscriber must learn that it missed something: a resync signal
                # heads the queue, in place of the first message dropped.
                if items[0].resync:
                    del items[1]
                else:
                    items[0] = Message.resync_signal(items[0].channel)
                items.append(message)
        else:
            items.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, error: BaseException) -> None:
        """End the subscription with ``error``."""
        self.error = error
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> Message:
        """The next message, waiting for one; raises the queue's error once it is empty."""
        while True:
            if self._items:
                return self._items.popleft()
            if self.error is not None:
                raise self.error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def get_all(self) -> list[Message]:
        """Every waiting message (at least one, waiting for it); raises the queue's error
        once it is empty. Draining at once spares a wake-up per message."""
        while True:
            items = self._items
            if items:
                batch = list(items)
                items.clear()
                return batch
            if self.error is not None:
                raise self.error
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def __len__(self) -> int:
        return len(self._items)


def fan_out(queues: Iterable[SubscriberQueue], message: Message, text: str) -> None:
    """Hand ``message`` (sent as the text frame ``text``) to every subscriber: framed once
    and written straight to the connections that take direct writes, queued for the
    others. A connection that refuses a write (its buffer is full) gets this message and
    the next ones queued, under the overflow policy, until its forwarder catches up."""
    frame: bytes | None = None
    for queue in tuple(queues):
        direct = queue.direct
        if direct is not None:
            if frame is None:
                frame = text_frame(text)
            if direct.write(frame):
                continue
            queue.direct = None
        queue.put(message)
