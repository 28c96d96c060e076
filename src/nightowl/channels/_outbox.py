"""The messages that reach a process during one turn of the event loop, fanned out together
at its end.

A busy channel brings several messages in one read from Redis (or PostgreSQL); handing
them out one by one costs, for every connection that takes direct writes, one write system
call per message. The outbox keeps what arrives during one turn, with the subscribers each
message had when it arrived, and at the end of the turn writes each connection its frames
(one per message, unchanged) in one write. The messages keep their order for every
subscriber, and one write carries at most ``max_queue`` of them, so that a burst still
meets the slow-consumer policy: once a connection's buffer is full, the rest goes to its
queue. A lone message, the common case when traffic is light, takes the plain fan-out.
"""

from __future__ import annotations

import asyncio

from nightowl.channels._frames import text_frame
from nightowl.channels._message import Message
from nightowl.channels._queue import SubscriberQueue, fan_out

__all__ = ["Outbox"]

Entry = tuple[tuple[SubscriberQueue, ...], Message, str]


class Outbox:
    """Messages waiting for the end of the event loop's turn; see the module docstring."""

    __slots__ = ("_entries", "_scheduled")

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._scheduled = False

    def add(self, queues: tuple[SubscriberQueue, ...], message: Message, text: str) -> None:
        """Fan ``message`` (sent as the text frame ``text``) out to ``queues`` at the end of
        this turn of the loop."""
        self._entries.append((queues, message, text))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Fan out everything waiting, now."""
        entries, self._entries = self._entries, []
        self._scheduled = False
        if len(entries) == 1:
            fan_out(*entries[0])
            return
        start = 0
        # Runs of messages with the same subscribers (one busy channel, as a rule) are
        # written together: one joined chunk of frames for every connection.
        for end in range(1, len(entries) + 1):
            if end == len(entries) or entries[end][0] != entries[start][0]:
                _fan_out_run(entries[start:end])
                start = end

    def clear(self) -> None:
        """Drop everything waiting (the channels are closing)."""
        self._entries.clear()


def _fan_out_run(run: list[Entry]) -> None:
    queues = run[0][0]
    if not queues:
        return
    # At most a queue's worth of messages per write: a connection whose buffer fills
    # takes the rest through its queue, so a burst meets the slow-consumer policy.
    limit = queues[0].maxsize
    for start in range(0, len(run), limit):
        _fan_out_piece(queues, run[start : start + limit])


def _fan_out_piece(queues: tuple[SubscriberQueue, ...], piece: list[Entry]) -> None:
    if len(piece) == 1:
        fan_out(*piece[0])
        return
    messages = [message for _, message, _ in piece]
    chunk: bytes | None = None
    for queue in queues:
        direct = queue.direct
        if direct is not None:
            if chunk is None:
                chunk = b"".join(text_frame(text) for _, _, text in piece)
            if direct.write(chunk):
                continue
            queue.direct = None
        for message in messages:
            queue.put(message)
