"""nightowl.compat.fastapi: the ``input`` of validation errors, as FastAPI reports it."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated

import pytest
from pydantic import BaseModel

from nightowl.compat.fastapi import FastAPI, Header, Query
from nightowl.compat.fastapi.sse import EventSourceResponse, ServerSentEvent
from nightowl.compat.fastapi.testclient import TestClient


class CommonHeaders(BaseModel):
    host: str
    save_data: bool
    traceparent: str | None = None
    x_tag: list[str] = []


def test_a_header_model_missing_a_field_shows_every_header_received() -> None:
    app = FastAPI()

    @app.get("/items/")
    def read_items(headers: Annotated[CommonHeaders, Header()]) -> CommonHeaders:
        return headers

    client = TestClient(app)
    client.headers.clear()
    response = client.get("/items/", headers=[("x-tag", "a"), ("x-tag", "b"), ("dnt", "1")])
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "missing",
                "loc": ["header", "save_data"],
                "msg": "Field required",
                # the fields under their names (a list's default when absent), then the rest
                "input": {"host": "testserver", "x_tag": ["a", "b"], "dnt": "1"},
            }
        ]
    }
    response = client.get("/items/")
    assert response.json()["detail"][0]["input"] == {"host": "testserver", "x_tag": []}


class Filters(BaseModel):
    limit: int
    tags: list[str] = []


def test_a_query_model_missing_a_field_shows_the_query_received() -> None:
    app = FastAPI()

    @app.get("/items/")
    def read_items(filters: Annotated[Filters, Query()]) -> Filters:
        return filters

    response = TestClient(app).get("/items/?order=asc&order=desc")
    assert response.json()["detail"][0]["input"] == {"tags": [], "order": ["asc", "desc"]}
    assert TestClient(app).get("/items/?limit=2").json() == {"limit": 2, "tags": []}


class Image(BaseModel):
    url: str


def test_a_body_that_is_not_a_list_is_worded_as_fastapi_words_it() -> None:
    app = FastAPI()

    @app.post("/images/")
    def create_images(images: list[Image]) -> list[Image]:
        return images

    @app.post("/index/")
    def create_index(weights: dict[int, float]) -> dict[int, float]:
        return weights

    client = TestClient(app)
    response = client.post("/images/", json={"url": "http://example.com/"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "list_type",
                "loc": ["body"],
                "msg": "Input should be a valid list",
                "input": {"url": "http://example.com/"},
            }
        ]
    }
    response = client.post("/index/", json=[1])
    assert response.json()["detail"][0]["msg"] == "Input should be a valid dictionary"


def test_fastapi_server_sent_events_send_data_as_json_and_raw_data_as_is() -> None:
    app = FastAPI()

    @app.post("/chat/stream", response_class=EventSourceResponse)
    async def stream_chat() -> AsyncIterable[ServerSentEvent]:
        yield ServerSentEvent(data="hello", event="token")
        yield ServerSentEvent(raw_data="[DONE]", event="done")

    text = TestClient(app).post("/chat/stream").text
    assert text == 'event: token\ndata: "hello"\n\nevent: done\ndata: [DONE]\n\n'
    with pytest.raises(ValueError, match="not both"):
        ServerSentEvent(data="a", raw_data="b")
