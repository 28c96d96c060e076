"""What a channels backend does; the hub that hands its messages to local subscribers."""

from __future__ import annotations

import abc
import asyncio
import random
from collections.abc import Callable

__all__ = ["Backend", "Deliver", "History", "backoff_delays", "sleep_or_stop"]

#: Called by a backend for every message that reaches this process: ``deliver(channel, id, json)``.
Deliver = Callable[[str, str, str], None]
#: ``(messages after the given id, oldest first, as (id, json); whether none was lost)``.
History = tuple[list[tuple[str, str]], bool]


class Backend(abc.ABC):
    """Carries messages between the processes (and hosts) that share a channel.

    A backend delivers every message published on a channel that this process listens
    to, in the order of publication, through the ``deliver`` callback given to
    :meth:`start`, and calls ``resync()`` after it got its connection back (the
    messages published meanwhile are lost to the live subscribers). It keeps the last
    ``history_size`` messages of every channel for clients that resume (SSE's
    ``Last-Event-ID``).
    """

    history_size: int = 1000

    @abc.abstractmethod
    async def start(self, deliver: Deliver, resync: Callable[[], None]) -> None:
        """Connect; from now on, deliver messages of the channels listened to."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect and release every resource."""

    @abc.abstractmethod
    async def listen(self, channel: str) -> None:
        """Start receiving ``channel``; returns once messages published from now on arrive
        (or at once while disconnected: the channel is listened to on reconnect)."""

    @abc.abstractmethod
    async def unlisten(self, channel: str) -> None:
        """Stop receiving ``channel``."""

    @abc.abstractmethod
    async def publish(self, channel: str, json: str) -> str:
        """Publish the JSON text ``json`` on ``channel``; returns the message's id."""

    @abc.abstractmethod
    async def history(self, channel: str, after: str) -> History:
        """The messages of ``channel`` published after the one with id ``after``.

        The second item is ``False`` when some may be missing: the message ``after`` is
        no longer in the history (it was trimmed, or never existed).
        """


def backoff_delays(first: float = 0.05, most: float = 5.0) -> Callable[[], float]:
    """Delays between reconnection attempts: doubling from ``first`` up to ``most``, with
    jitter so that the workers do not all knock at once. Make a new one after a success."""
    delay = first

    def next_delay() -> float:
        nonlocal delay
        current = delay
        delay = min(delay * 2, most)
        return current * random.uniform(0.5, 1.0)

    return next_delay


async def sleep_or_stop(delay: float, stopping: asyncio.Event) -> bool:
    """Sleep ``delay`` seconds; ``True`` if ``stopping`` was set meanwhile."""
    try:
        await asyncio.wait_for(stopping.wait(), delay)
    except TimeoutError:
        return False
    return True
