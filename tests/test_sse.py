"""Server-Sent Events: the wire format, pings, sync generators, and stopping on disconnect."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from nightowl import App, EventSourceResponse, ServerSentEvent
from nightowl.testing import TestClient
from tests.live import live_server


def parse_events(text: str) -> list[dict[str, list[str]]]:
    """Split an event stream into events, each a mapping of field -> values (in order)."""
    events = []
    for block in text.split("\n\n"):
        if not block:
            continue
        event: dict[str, list[str]] = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            event.setdefault(field, []).append(value.removeprefix(" "))
        events.append(event)
    return events


class Quote(BaseModel):
    symbol: str
    price: float


def sse_app(make_stream: Any, **options: Any) -> App:
    app = App()

    @app.get("/events")
    def events() -> EventSourceResponse:
        return EventSourceResponse(make_stream(), **options)

    return app


def test_strings_become_data_events_with_sse_headers() -> None:
    async def stream() -> AsyncIterator[str]:
        yield "hello"
        yield "world"

    with TestClient(sse_app(stream)) as client:
        response = client.get("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.text == "data: hello\n\ndata: world\n\n"


def test_multiline_data_is_split_into_several_data_lines() -> None:
    async def stream() -> AsyncIterator[str]:
        yield "line one\nline two\r\nline three"

    with TestClient(sse_app(stream)) as client:
        text = client.get("/events").text
    assert text == "data: line one\ndata: line two\ndata: line three\n\n"
    assert parse_events(text) == [{"data": ["line one", "line two", "line three"]}]


def test_dicts_and_models_are_sent_as_json() -> None:
    async def stream() -> AsyncIterator[Any]:
        yield {"a": 1, "b": [True, None]}
        yield Quote(symbol="OWL", price=1.5)
        yield ServerSentEvent(Quote(symbol="HOO", price=2.0), event="quote")

    with TestClient(sse_app(stream)) as client:
        text = client.get("/events").text
    assert text == (
        'data: {"a":1,"b":[true,null]}\n\n'
        'data: {"symbol":"OWL","price":1.5}\n\n'
        'event: quote\ndata: {"symbol":"HOO","price":2.0}\n\n'
    )


def test_event_id_retry_and_comment_fields() -> None:
    async def stream() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent("first", event="update", id="1", retry=2500)
        yield ServerSentEvent("second", id=2)
        yield ServerSentEvent(comment="just a comment")

    with TestClient(sse_app(stream)) as client:
        events = parse_events(client.get("/events").text)
    assert events == [
        {"event": ["update"], "id": ["1"], "retry": ["2500"], "data": ["first"]},
        {"id": ["2"], "data": ["second"]},
        {"": ["just a comment"]},
    ]


def test_crlf_separator() -> None:
    async def stream() -> AsyncIterator[ServerSentEvent]:
        yield ServerSentEvent("x", event="e")

    with TestClient(sse_app(stream, sep="\r\n")) as client:
        assert client.get("/events").text == "event: e\r\ndata: x\r\n\r\n"


def test_invalid_fields_are_rejected() -> None:
    with pytest.raises(ValueError):
        ServerSentEvent("x", event="two\nlines").encode()
    with pytest.raises(ValueError):
        ServerSentEvent("x", id="a\nb").encode()
    with pytest.raises(ValueError):
        ServerSentEvent("x", retry=-1).encode()
    with pytest.raises(ValueError):
        EventSourceResponse(iter(()), ping=0)


def test_ping_comments_are_sent_while_idle() -> None:
    async def stream() -> AsyncIterator[str]:
        yield "start"
        await asyncio.sleep(0.35)
        yield "end"

    with TestClient(sse_app(stream, ping=0.1)) as client:
        text = client.get("/events").text
    assert text.startswith("data: start\n\n")
    assert text.endswith("data: end\n\n")
    pings = text.count(": ping\n\n")
    assert 1 <= pings <= 4, text


def test_no_ping_when_events_keep_flowing() -> None:
    async def stream() -> AsyncIterator[int]:
        for n in range(5):
            yield n
            await asyncio.sleep(0.01)

    with TestClient(sse_app(stream, ping=5)) as client:
        text = client.get("/events").text
    assert ": ping" not in text
    assert [e["data"] for e in parse_events(text)] == [["0"], ["1"], ["2"], ["3"], ["4"]]


def test_sync_generator_runs_in_a_worker_thread() -> None:
    threads: list[str] = []

    def stream() -> Iterator[ServerSentEvent]:
        for n in range(3):
            threads.append(threading.current_thread().name)
            yield ServerSentEvent({"n": n}, id=n)

    with TestClient(sse_app(stream)) as client:
        events = parse_events(client.get("/events").text)
    assert [e["data"] for e in events] == [['{"n":0}'], ['{"n":1}'], ['{"n":2}']]
    assert [e["id"] for e in events] == [["0"], ["1"], ["2"]]
    assert threads and all(name.startswith("nightowl") for name in threads)


def test_head_sends_headers_only() -> None:
    async def stream() -> AsyncIterator[str]:
        yield "never sent"

    with TestClient(sse_app(stream)) as client:
        response = client.head("/events")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.content == b""


def read_events_then_disconnect(url: str, count: int) -> list[str]:
    """Read ``count`` data lines from a real server, then drop the connection."""
    received: list[str] = []
    with httpx.Client(timeout=5) as client, client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        for line in response.iter_lines():
            if line.startswith("data: "):
                received.append(line.removeprefix("data: "))
                if len(received) == count:
                    break
    return received


def test_client_disconnect_stops_an_async_generator_and_runs_its_cleanup() -> None:
    cleaned_up = threading.Event()
    produced: list[int] = []

    async def endless() -> AsyncIterator[dict[str, int]]:
        try:
            n = 0
            while True:
                n += 1
                produced.append(n)
                yield {"n": n}
                await asyncio.sleep(0.01)
        finally:
            cleaned_up.set()

    with live_server(sse_app(endless, ping=0.05)) as base_url:
        received = read_events_then_disconnect(base_url + "/events", 3)
        assert received == ['{"n":1}', '{"n":2}', '{"n":3}']
        assert cleaned_up.wait(5), "the generator's finally block did not run"
        count = len(produced)
        time.sleep(0.1)
        assert len(produced) == count, "the generator kept running after the disconnect"


def test_client_disconnect_stops_a_sync_generator_and_runs_its_cleanup() -> None:
    cleaned_up = threading.Event()

    def endless() -> Iterator[str]:
        try:
            n = 0
            while True:
                n += 1
                yield f"tick {n}"
                time.sleep(0.01)
        finally:
            cleaned_up.set()

    with live_server(sse_app(endless)) as base_url:
        assert read_events_then_disconnect(base_url + "/events", 2) == ["tick 1", "tick 2"]
        assert cleaned_up.wait(5), "the generator's finally block did not run"
