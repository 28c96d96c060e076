"""Channels inside one process: the default, for development, tests and single workers."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from nightowl.channels.backends._base import Backend, Deliver, History

__all__ = ["MemoryBackend"]


class MemoryBackend(Backend):
    """Messages go to the subscribers of this process only (``App(channels="memory://")``).

    Args:
        history_size: how many recent messages of each channel are kept for clients
            that resume (SSE's ``Last-Event-ID``).
    """

    def __init__(self, *, history_size: int = 1000) -> None:
        self.history_size = history_size
        self._deliver: Deliver | None = None
        self._listening: set[str] = set()
        self._history: dict[str, deque[tuple[int, str]]] = {}
        self._last_id: dict[str, int] = {}

    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        """Start delivering (nothing to connect to)."""
        self._deliver = deliver

    async def stop(self) -> None:
        """Stop delivering; the history stays, as it would in Redis."""
        self._deliver = None
        self._listening.clear()

    async def listen(self, channel: str) -> None:
        """Deliver ``channel``'s messages from now on."""
        self._listening.add(channel)

    async def unlisten(self, channel: str) -> None:
        """Stop delivering ``channel``'s messages."""
        self._listening.discard(channel)

    async def publish(self, channel: str, json: str) -> str:
        """Keep the message in the history and hand it to this process' subscribers."""
        number = self._last_id.get(channel, 0) + 1
        self._last_id[channel] = number
        history = self._history.get(channel)
        if history is None:
            history = self._history[channel] = deque(maxlen=self.history_size)
        history.append((number, json))
        message_id = str(number)
        if self._deliver is not None and channel in self._listening:
            self._deliver(channel, message_id, json)
        return message_id

    async def history(self, channel: str, after: str) -> History:
        """The kept messages of ``channel`` after id ``after``."""
        kept = self._history.get(channel, ())
        try:
            number = int(after)
        except ValueError:
            return [(str(n), json) for n, json in kept], False
        complete = any(n == number for n, _ in kept) if number else not kept or kept[0][0] == 1
        return [(str(n), json) for n, json in kept if n > number], complete
