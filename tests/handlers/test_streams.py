"""Generator handlers stream what they yield: JSON Lines by default, or through the
route's streaming response class."""

import json
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel

from nightowl import App, Depends, EventSourceResponse, StreamingResponse
from nightowl.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


ITEMS = [Item(name="Plumbus", price=32.99), Item(name="Portal Gun", price=999.99)]


def _app() -> App:
    app = App()

    @app.get("/async")
    async def items_async() -> AsyncIterable[Item]:
        for item in ITEMS:
            yield item

    @app.get("/sync")
    def items_sync() -> Iterable[Item]:
        yield from ITEMS

    @app.get("/untyped")
    async def untyped():  # type: ignore[no-untyped-def]
        yield {"n": 1}
        yield {"n": 2}

    @app.get("/checked")
    async def checked() -> AsyncIterable[Item]:
        yield {"name": "Meeseeks", "price": "49.99"}  # type: ignore[misc]

    @app.get("/story", response_class=StreamingResponse)
    async def story() -> AsyncIterable[str]:
        for line in ("Rick: Morty!", "Morty: What?"):
            yield line + "\n"

    @app.get("/events", response_class=EventSourceResponse)
    def events() -> Iterable[Item]:
        yield from ITEMS

    return app


def test_generator_handlers_stream_json_lines() -> None:
    client = TestClient(_app())
    expected = [{"name": "Plumbus", "price": 32.99}, {"name": "Portal Gun", "price": 999.99}]
    for path in ("/async", "/sync"):
        response = client.get(path)
        assert response.headers["content-type"] == "application/jsonl"
        assert [json.loads(line) for line in response.text.splitlines()] == expected
    assert client.get("/untyped").text == '{"n":1}\n{"n":2}\n'
    assert json.loads(client.get("/checked").text) == {"name": "Meeseeks", "price": 49.99}


def test_generator_handlers_stream_through_the_response_class() -> None:
    client = TestClient(_app())
    assert client.get("/story").text == "Rick: Morty!\nMorty: What?\n"
    events = client.get("/events")
    assert events.headers["content-type"] == "text/event-stream; charset=utf-8"
    data = [line for line in events.text.splitlines() if line.startswith("data: ")]
    assert data == [
        'data: {"name":"Plumbus","price":32.99}',
        'data: {"name":"Portal Gun","price":999.99}',
    ]


def test_generator_dependencies_stay_open_while_the_handler_streams() -> None:
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("open")
        yield "r"
        events.append("close")

    app = App()

    @app.get("/")
    async def stream(r: Annotated[str, Depends(resource)]) -> AsyncIterable[dict[str, Any]]:
        events.append("first item")
        yield {"r": r}

    assert TestClient(app).get("/").text == '{"r":"r"}\n'
    assert events == ["open", "first item", "close"]


def test_streams_are_documented() -> None:
    from openapi_spec_validator import validate

    document = _app().openapi()
    ok = document["paths"]["/async"]["get"]["responses"]["200"]
    assert ok["content"] == {"application/jsonl": {"schema": {"$ref": "#/components/schemas/Item"}}}
    events = document["paths"]["/events"]["get"]["responses"]["200"]
    assert events["content"] == {"text/event-stream": {}}
    validate(document)


def test_a_generator_of_server_sent_events_is_an_event_stream() -> None:
    from nightowl import ServerSentEvent

    app = App()

    @app.get("/events")
    async def events() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(comment="updates")
        for n, item in enumerate(ITEMS):
            yield ServerSentEvent(item, event="item", id=str(n), retry=5000)

    @app.get("/named", response_class=EventSourceResponse)
    async def named() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent("plain text")

    client = TestClient(app)
    response = client.get("/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text == (
        ": updates\n\n"
        'event: item\nid: 0\nretry: 5000\ndata: {"name":"Plumbus","price":32.99}\n\n'
        'event: item\nid: 1\nretry: 5000\ndata: {"name":"Portal Gun","price":999.99}\n\n'
    )
    assert client.get("/named").text == "data: plain text\n\n"
    responses = app.openapi()["paths"]["/events"]["get"]["responses"]
    assert responses["200"]["content"] == {"text/event-stream": {}}
