"""Server-Sent Events: push a stream of events to a browser's ``EventSource``.

::

    from nightowl import App, EventSourceResponse, ServerSentEvent

    app = App()

    @app.get("/clock")
    async def clock():
        async def ticks():
            n = 0
            while True:
                n += 1
                yield ServerSentEvent({"tick": n}, event="tick", id=str(n))
                await asyncio.sleep(1)

        return EventSourceResponse(ticks(), ping=15)

The stream stops, and the generator's ``finally`` block runs, when the client goes away,
and when ``nightowl run``/``serve`` is told to stop (SIGTERM): then the response ends
cleanly and the browser's ``EventSource`` reconnects, to another server if need be.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

from nightowl.responses import BackgroundCall, ContentStream, StreamingResponse, dump_json
from nightowl.types import Send

__all__ = ["EventSourceResponse", "ServerSentEvent"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _single_line(field: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"The SSE {field!r} field cannot contain a line break: {value!r}")
    return value


class ServerSentEvent:
    """One event of an :class:`EventSourceResponse`.

    Args:
        data: the payload. A ``str`` is sent as is (a multi-line string becomes several
            ``data:`` lines, which the browser joins back with ``\\n``); ``bytes`` are
            decoded as UTF-8; anything else (dict, list, pydantic model, dataclass...)
            is serialised to JSON. ``None`` sends no ``data`` field.
        event: the event type, dispatched to ``source.addEventListener(event, ...)``;
            without it the browser fires ``message``.
        id: the event id; the browser sends it back as ``Last-Event-ID`` on reconnect.
        retry: how long the browser waits before reconnecting, in milliseconds.
        comment: a comment line (``: text``), ignored by the browser.

    ::

        ServerSentEvent({"price": 10.5}, event="quote", id="42")
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        event: str | None = None,
        id: str | int | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("data", "event", "id", "retry", "comment")
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(
            getattr(self, name) == getattr(other, name)
            for name in ("data", "event", "id", "retry", "comment")
        )

    def data_text(self) -> str | None:
        """The ``data`` field as text: strings as is, bytes decoded, anything else as JSON."""
        data = self.data
        if data is None or isinstance(data, str):
            return data
        if isinstance(data, (bytes, bytearray, memoryview)):
            return bytes(data).decode("utf-8")
        return dump_json(data).decode("utf-8")

    def encode(self, sep: str = "\n") -> bytes:
        """The event in the ``text/event-stream`` wire format, ending with a blank line."""
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(": " + line for line in _LINE_BREAK.split(self.comment))
        if self.event is not None:
            lines.append("event: " + _single_line("event", self.event))
        if self.id is not None:
            event_id = _single_line("id", str(self.id))
            if "\0" in event_id:
                raise ValueError("The SSE 'id' field cannot contain a NUL character.")
            lines.append("id: " + event_id)
        if self.retry is not None:
            if isinstance(self.retry, bool) or not isinstance(self.retry, int) or self.retry < 0:
                raise ValueError(f"retry must be a non-negative int (milliseconds): {self.retry!r}")
            lines.append(f"retry: {self.retry}")
        text = self.data_text()
        if text is not None:
            lines.extend("data: " + line for line in _LINE_BREAK.split(text))
        return (sep.join(lines) + sep + sep).encode("utf-8")


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` response fed by a sync or async iterator of events.

    Each item may be a :class:`ServerSentEvent`, a ``str`` (the data of one event), or
    anything :func:`~nightowl.responses.dump_json` serialises (sent as JSON data).
    Sync iterators are advanced in the thread pool.

    Args:
        content: the iterator of events.
        status_code: the HTTP status.
        headers: extra headers (``Cache-Control: no-cache`` and ``X-Accel-Buffering: no``,
            which stops nginx from buffering the stream, are set unless given).
        ping: send a ``: ping`` comment after this many idle seconds, so proxies and
            load balancers keep the connection open; ``None`` never pings.
        sep: the line separator: ``"\\n"`` (default), ``"\\r\\n"`` or ``"\\r"``.
        background: an awaitable callable run after the stream ends.

    ::

        @app.get("/events")
        async def events():
            async def stream():
                for n in range(3):
                    yield ServerSentEvent(f"step {n}", event="progress", id=n)
            return EventSourceResponse(stream(), ping=15)
    """

    media_type = "text/event-stream"
    ends_on_shutdown = True

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        *,
        ping: float | None = None,
        sep: str = "\n",
        background: BackgroundCall | None = None,
    ) -> None:
        if sep not in ("\n", "\r\n", "\r"):
            raise ValueError(f"sep must be '\\n', '\\r\\n' or '\\r', not {sep!r}")
        if ping is not None and ping <= 0:
            raise ValueError(f"ping must be a positive number of seconds, not {ping!r}")
        merged = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        for key, value in (headers or {}).items():
            merged[key.lower()] = value
        super().__init__(content, status_code, merged, background=background)
        self.ping = ping
        self.sep = sep

    def encode_chunk(self, chunk: Any) -> bytes:
        """Encode one item of the iterator as an event."""
        event = chunk if isinstance(chunk, ServerSentEvent) else ServerSentEvent(chunk)
        return event.encode(self.sep)

    async def stream_body(self, send: Send) -> None:
        """Send the events, with a ``: ping`` comment whenever the stream idles for ``ping`` s."""
        if self.ping is None:
            await super().stream_body(send)
            return
        interval = self.ping
        loop = asyncio.get_running_loop()
        lock = asyncio.Lock()
        last_sent = loop.time()
        ping_body = ServerSentEvent(comment="ping").encode(self.sep)

        async def send_locked(message: Any) -> None:
            nonlocal last_sent
            async with lock:
                await send(message)
                last_sent = loop.time()

        async def keep_alive() -> None:
            while True:
                idle = loop.time() - last_sent
                if idle < interval:
                    await asyncio.sleep(interval - idle)
                    continue
                await send_locked(
                    {"type": "http.response.body", "body": ping_body, "more_body": True}
                )

        pinger = loop.create_task(keep_alive())
        try:
            await super().stream_body(send_locked)
        finally:
            pinger.cancel()
            await asyncio.wait((pinger,))
            error = None if pinger.cancelled() else pinger.exception()
            if error is not None:
                raise error
