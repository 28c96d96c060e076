"""``fastapi.sse``: nightowl's server-sent events, with FastAPI's ``ServerSentEvent``."""

from __future__ import annotations

from typing import Any

from nightowl.responses import dump_json
from nightowl.sse import EventSourceResponse
from nightowl.sse import ServerSentEvent as _Event

__all__ = ["EventSourceResponse", "ServerSentEvent"]


class ServerSentEvent(_Event):
    """FastAPI's event: ``data`` is always sent as JSON (``"hello"`` is ``data: "hello"``)
    and ``raw_data`` as it is; nightowl's :class:`~nightowl.sse.ServerSentEvent` sends a
    string ``data`` as it is."""

    __slots__ = ("raw",)

    def __init__(
        self,
        data: Any = None,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
        comment: str | None = None,
        *,
        raw_data: str | None = None,
    ) -> None:
        if data is not None and raw_data is not None:
            raise ValueError("A ServerSentEvent takes data (sent as JSON) or raw_data, not both.")
        super().__init__(data if raw_data is None else raw_data, event, id, retry, comment)
        self.raw = raw_data is not None

    def data_text(self) -> str | None:
        """``raw_data`` as it is, ``data`` as JSON."""
        if self.raw or self.data is None:
            return super().data_text()
        return dump_json(self.data).decode("utf-8")
