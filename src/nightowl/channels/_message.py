"""What a subscriber receives: a published message, or the signal to resync."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter
from pydantic_core import from_json

from nightowl.exceptions import HTTPException

__all__ = ["ChannelsUnavailable", "Message", "SlowConsumer", "message_id_key"]

T = TypeVar("T")

_adapters: dict[Any, TypeAdapter[Any]] = {}


class SlowConsumer(Exception):
    """Raised by a subscription whose queue filled up under the ``"disconnect"`` policy.

    The subscriber read too slowly and was cut off; a WebSocket handler usually lets it
    end the connection, and the client reconnects (and reloads its state).
    """


class ChannelsUnavailable(HTTPException):
    """Publishing failed: Redis (or PostgreSQL) cannot be reached right now.

    An :class:`~nightowl.exceptions.HTTPException`, so a handler that lets it through
    answers ``503 Service Unavailable`` (a problem, with ``Retry-After: 1``).
    """

    def __init__(self, detail: str = "The message broker cannot be reached; try again.") -> None:
        super().__init__(503, detail, headers={"Retry-After": "1"})


class Message:
    """One message of a channel, as a subscriber receives it.

    Attributes:
        channel: the channel it was published on.
        id: its id in the channel's history, increasing within a channel; an SSE stream
            sends it as the event id, and a reconnecting client resumes after it.
        json: the message as JSON text, as published (forward it as is:
            ``await ws.send_text(message.json)``).
        resync: ``True`` for the resync signal, which carries no data: messages may
            have been missed (the connection to Redis or PostgreSQL was lost and is back,
            or the subscriber was too slow and messages were dropped), so reload the state.

    The same ``Message`` is handed to every subscriber of the process; ``data`` is parsed
    once, on first access.
    """

    __slots__ = ("_data", "channel", "id", "json", "resync")

    def __init__(self, channel: str, id: str | None, json: str, *, resync: bool = False) -> None:
        self.channel = channel
        self.id = id
        self.json = json
        self.resync = resync
        self._data: Any = _UNPARSED

    @classmethod
    def resync_signal(cls, channel: str) -> Message:
        """The signal telling the subscribers of ``channel`` that they may have missed messages."""
        return cls(channel, None, "null", resync=True)

    @property
    def data(self) -> Any:
        """The message, parsed from JSON (``None`` for the resync signal)."""
        if self._data is _UNPARSED:
            self._data = from_json(self.json)
        return self._data

    def parse(self, model: type[T]) -> T:
        """The message validated as ``model`` (a pydantic model, dataclass, TypedDict...).

        Raises pydantic's ``ValidationError`` when it does not fit.
        """
        adapter = _adapters.get(model)
        if adapter is None:
            adapter = _adapters[model] = TypeAdapter(model)
        value: T = adapter.validate_json(self.json)
        return value

    def __repr__(self) -> str:
        if self.resync:
            return f"<Message {self.channel!r} resync>"
        return f"<Message {self.channel!r} id={self.id!r} {self.json[:60]}>"


class _Unparsed:
    pass


_UNPARSED: Any = _Unparsed()


def message_id_key(message_id: str) -> tuple[int, ...]:
    """An id as a sortable key: ``"42"`` -> ``(42,)``, Redis' ``"1700000000000-3"`` -> ``(1700000000000, 3)``.

    Raises ``ValueError`` for an id no backend makes (a forged ``Last-Event-ID``).
    """
    parts = tuple(int(part) for part in message_id.split("-"))
    if not parts or len(parts) > 2 or any(part < 0 for part in parts):
        raise ValueError(f"not a message id: {message_id!r}")
    return parts
