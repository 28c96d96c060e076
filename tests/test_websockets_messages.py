"""WebSocket handlers that declare their messages' type: ``messages: AsyncIterator[Model]``."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from nightowl import App, Body, Depends, WebSocket
from nightowl.exceptions import ImproperlyConfigured, WebSocketDisconnect
from nightowl.testing import TestClient
from nightowl.websockets import WebSocketConfig
from tests.live import live_server


class ChatMessage(BaseModel):
    text: str = Field(max_length=20)


def nickname(ws: WebSocket) -> str:
    nick: str = ws.query_params.get("nick", "anonymous")
    return nick


def chat_app(config: WebSocketConfig | None = None) -> tuple[App, list[str]]:
    """A chat room whose handler never reads a frame itself; ``seen`` is what it got."""
    app = App(websocket_config=config)
    seen: list[str] = []

    @app.websocket("/rooms/{room}")
    async def chat(
        ws: WebSocket,
        room: int,
        nick: Annotated[str, Depends(nickname)],
        messages: AsyncIterator[ChatMessage],
    ) -> None:
        async for message in messages:  # accepts the connection
            seen.append(message.text)
            await ws.send_json({"room": room, "from": nick, "text": message.text})
        seen.append("end")

    return app, seen


def test_messages_arrive_validated_and_the_connection_is_accepted_for_the_handler() -> None:
    app, seen = chat_app()
    with TestClient(app) as client, client.websocket_connect("/rooms/4?nick=ada") as ws:
        ws.send_json({"text": "hello"})
        assert ws.receive_json() == {"room": 4, "from": "ada", "text": "hello"}
        ws.send_text('{"text": "again"}')
        assert ws.receive_json()["text"] == "again"
    assert seen == ["hello", "again", "end"]


def test_an_invalid_message_closes_with_1007_and_ends_the_loop() -> None:
    app, seen = chat_app()
    with TestClient(app) as client, client.websocket_connect("/rooms/1") as ws:
        ws.send_json({"text": "x" * 21})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert (closed.value.code, closed.value.reason) == (1007, "Invalid message.")
    assert seen == ["end"]


def test_the_app_may_answer_an_invalid_message_with_an_error_frame() -> None:
    app, seen = chat_app(WebSocketConfig(invalid_message="error"))
    with TestClient(app) as client, client.websocket_connect("/rooms/1") as ws:
        ws.send_text("not json")
        error = ws.receive_json()
        assert error["type"] == "error"
        assert error["errors"][0]["type"] == "json_invalid"
        ws.send_json({"words": "no text"})
        assert ws.receive_json()["errors"][0]["loc"] == ["text"]
        ws.send_json({"text": "fine"})
        assert ws.receive_json()["text"] == "fine"
    assert seen == ["fine", "end"]


def test_one_handler_may_choose_error_frames_for_itself() -> None:
    app = App()

    @app.websocket("/lenient")
    async def lenient(ws: WebSocket, messages: AsyncIterator[ChatMessage]) -> None:
        ws.config = dataclasses.replace(ws.config, invalid_message="error")
        async for message in messages:
            await ws.send_json({"echo": message.text})

    with TestClient(app) as client, client.websocket_connect("/lenient") as ws:
        ws.send_json({"text": "x" * 21})
        assert ws.receive_json()["errors"][0]["type"] == "string_too_long"
        ws.send_json({"text": "ok"})
        assert ws.receive_json() == {"echo": "ok"}


def test_the_size_limit_still_closes_with_1009() -> None:
    app, seen = chat_app(WebSocketConfig(max_message_size=32))
    with TestClient(app) as client, client.websocket_connect("/rooms/1") as ws:
        ws.send_json({"text": "short"})
        assert ws.receive_json()["text"] == "short"
        ws.send_text('{"text": "' + "a" * 40 + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009
    assert seen == ["short", "end"]


def test_text_bytes_and_plain_json_streams() -> None:
    app = App()

    @app.websocket("/text")
    async def text(ws: WebSocket, lines: AsyncIterable[str]) -> None:
        async for line in lines:
            await ws.send_text(line.upper())

    @app.websocket("/bytes")
    async def raw(ws: WebSocket, chunks: AsyncIterator[bytes]) -> None:
        await ws.accept(subprotocol="raw")  # accepted by the handler: no second accept
        async for chunk in chunks:
            await ws.send_bytes(chunk[::-1])

    @app.websocket("/json")
    async def anything(ws: WebSocket, values: AsyncIterator[list[int]]) -> None:
        async for value in values:
            await ws.send_json(sum(value))

    with TestClient(app) as client:
        with client.websocket_connect("/text") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "HI"
        with client.websocket_connect("/bytes", subprotocols=["raw"]) as ws:
            assert ws.accepted_subprotocol == "raw"
            ws.send_bytes(b"\x01\x02")
            assert ws.receive_bytes() == b"\x02\x01"
        with client.websocket_connect("/json") as ws:
            ws.send_json([1, 2, 3])
            assert ws.receive_json() == 6
            ws.send_json(["a"])
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 1007


async def takes_a_model(ws: WebSocket, message: ChatMessage) -> None:
    await ws.accept()


async def takes_a_body(ws: WebSocket, text: Annotated[str, Body()]) -> None:
    await ws.accept()


@pytest.mark.parametrize("handler", [takes_a_model, takes_a_body])
def test_a_websocket_parameter_read_from_a_body_is_a_startup_error(handler: object) -> None:
    app = App()
    app.websocket("/ws")(handler)  # type: ignore[type-var]
    with pytest.raises(ImproperlyConfigured, match=r"no request body.*AsyncIterator\["):
        app.compiled_routes()


def test_through_uvicorn_an_invalid_message_closes_with_1007() -> None:
    connect = pytest.importorskip("websockets.sync.client").connect
    exceptions = pytest.importorskip("websockets.exceptions")
    app, seen = chat_app()
    with live_server(app, ws="websockets-sansio") as base_url:
        host = base_url.removeprefix("http://")
        with connect(f"ws://{host}/rooms/9?nick=bo", open_timeout=5, close_timeout=5) as ws:
            ws.send('{"text": "over the wire"}')
            assert ws.recv(timeout=5) == '{"room":9,"from":"bo","text":"over the wire"}'
            ws.send('{"text": 3}')
            with pytest.raises(exceptions.ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1007
    assert seen == ["over the wire", "end"]
