"""WebSocket handlers, through the test client and through a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest

from nightowl import App, Depends, WebSocket, status
from nightowl.exceptions import WebSocketDisconnect, WebSocketException
from nightowl.testing import TestClient
from tests.live import live_server


def make_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            message = await ws.receive_message()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await ws.send_text("echo: " + message["text"])
            else:
                await ws.send_bytes(b"echo: " + message["bytes"])

    @app.websocket("/json")
    async def json_echo(ws: WebSocket) -> None:
        await ws.accept()
        async for data in ws.iter_json():
            await ws.send_json({"got": data})

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


def test_echo_text(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "echo: hello"
        ws.send_text("again")
        assert ws.receive_text() == "echo: again"


def test_echo_bytes(client: TestClient) -> None:
    with client.websocket_connect("/echo") as ws:
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"echo: \x00\x01"


def test_echo_json(client: TestClient) -> None:
    with client.websocket_connect("/json") as ws:
        ws.send_json({"a": [1, 2], "b": None})
        assert ws.receive_json() == {"got": {"a": [1, 2], "b": None}}
        ws.send_json([1, "two"], mode="binary")
        assert ws.receive_json() == {"got": [1, "two"]}


def test_path_parameters_are_typed_by_annotation() -> None:
    app = App()

    @app.websocket("/rooms/{room_id}")
    async def room(ws: WebSocket, room_id: int) -> None:
        await ws.accept()
        await ws.send_json({"room_id": room_id, "type": type(room_id).__name__})
        await ws.close()

    with TestClient(app) as client:
        with client.websocket_connect("/rooms/42") as ws:
            assert ws.receive_json() == {"room_id": 42, "type": "int"}
        with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117
            with client.websocket_connect("/rooms/forty-two"):
                pass
        assert refused.value.code == 1008


cleaned_up: list[str] = []


def current_user(ws: WebSocket) -> Iterator[str]:
    """A generator dependency: its cleanup runs when the connection ends."""
    user = ws.query_params.get("user", "anonymous")
    yield user
    cleaned_up.append(user)


def test_dependency_in_a_websocket_handler() -> None:
    app = App()
    cleaned_up.clear()

    @app.websocket("/me")
    async def me(ws: WebSocket, user: Annotated[str, Depends(current_user)]) -> None:
        await ws.accept()
        await ws.send_text(f"hello {user}")
        await ws.close()

    with TestClient(app) as client:
        with client.websocket_connect("/me?user=ada") as ws:
            assert ws.receive_text() == "hello ada"
        assert cleaned_up == ["ada"]

        app.dependency_overrides[current_user] = lambda: "override"
        with client.websocket_connect("/me") as ws:
            assert ws.receive_text() == "hello override"


def test_unknown_path_is_refused(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117
        with client.websocket_connect("/no-such-socket"):
            pass
    assert refused.value.code == 1008


def test_server_close_code_and_reason_reach_the_client() -> None:
    app = App()

    @app.websocket("/kick")
    async def kick(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")
        await ws.close(4001, "kicked")

    with TestClient(app) as client, client.websocket_connect("/kick") as ws:
        assert ws.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4001
        assert closed.value.reason == "kicked"


def test_client_close_is_seen_by_the_handler() -> None:
    app = App()
    seen: list[int] = []

    @app.websocket("/listen")
    async def listen(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    with TestClient(app) as client:
        with client.websocket_connect("/listen") as ws:
            ws.close(4100)
        assert seen == [4100]


def test_subprotocol_and_headers_reach_the_handler() -> None:
    app = App()

    @app.websocket("/chat")
    async def chat(ws: WebSocket) -> None:
        await ws.accept(subprotocol="chat.v2")
        await ws.send_json(
            {"token": ws.headers.get("x-token"), "offered": ws.scope["subprotocols"]}
        )
        await ws.close()

    with TestClient(app) as client:
        connect = client.websocket_connect(
            "/chat", subprotocols=["chat.v1", "chat.v2"], headers={"X-Token": "s3cret"}
        )
        with connect as ws:
            assert ws.accepted_subprotocol == "chat.v2"
            assert ws.receive_json() == {"token": "s3cret", "offered": ["chat.v1", "chat.v2"]}


def test_handler_error_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/boom")
    async def boom(ws: WebSocket) -> None:
        await ws.accept()
        raise ValueError("boom")

    with TestClient(app) as client, client.websocket_connect("/boom") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1011
    assert "boom" in caplog.text


def test_through_uvicorn_with_the_websockets_package() -> None:
    connect = pytest.importorskip("websockets.sync.client").connect
    exceptions = pytest.importorskip("websockets.exceptions")
    app = make_app()

    @app.websocket("/rooms/{room_id}")
    async def room(ws: WebSocket, room_id: int) -> None:
        await ws.accept()
        await ws.send_json({"room_id": room_id})
        await ws.close(4001, "done")

    with live_server(app, ws="websockets-sansio") as base_url:
        host = base_url.removeprefix("http://")
        with connect(f"ws://{host}/echo", open_timeout=5, close_timeout=5) as ws:
            ws.send("hi")
            assert ws.recv(timeout=5) == "echo: hi"
            ws.send(b"\x01\x02")
            assert ws.recv(timeout=5) == b"echo: \x01\x02"

        with connect(f"ws://{host}/rooms/7", open_timeout=5, close_timeout=5) as ws:
            assert ws.recv(timeout=5) == '{"room_id":7}'
            with pytest.raises(exceptions.ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4001
            assert closed.value.rcvd.reason == "done"

        with pytest.raises(exceptions.InvalidStatus) as refused:
            connect(f"ws://{host}/no-such-socket", open_timeout=5)
        assert refused.value.response.status_code == 403


def test_client_leaving_is_not_logged_as_an_error(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.receive_text()  # raises WebSocketDisconnect when the client leaves

    with (
        caplog.at_level("ERROR"),
        TestClient(app) as client,
        client.websocket_connect("/ws") as session,
    ):
        session.send_text("hi")
    assert "Unhandled exception" not in caplog.text


def test_websocket_exception_closes_with_its_code() -> None:
    app = App()

    @app.websocket("/guarded")
    async def guarded(ws: WebSocket, token: str | None = None) -> None:
        if token is None:
            raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "no token")
        await ws.accept()
        await ws.send_text("in")
        raise WebSocketException(4002, "enough")

    with TestClient(app) as client:
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/guarded"):
            pass
        assert (refused.value.code, refused.value.reason) == (1008, "no token")
        with client.websocket_connect("/guarded?token=t") as ws:
            assert ws.receive_text() == "in"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_text()
            assert (closed.value.code, closed.value.reason) == (4002, "enough")
