"""WebSocket handlers, through the test client and through a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from nightowl import App, Depends, HTTPException, WebSocket, status
from nightowl.exceptions import WebSocketDisconnect, WebSocketException
from nightowl.testing import TestClient
from nightowl.websockets import WebSocketConfig, origin_allowed
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
        TestClient(app, raise_server_exceptions=False) as client,
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


# -- the guards: origin, typed messages, size and idle limits --------------------------------


class Chat(BaseModel):
    text: str = Field(max_length=20)


def guarded_app(config: WebSocketConfig | None = None) -> App:
    app = App(websocket_config=config)

    @app.websocket("/chat")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_models(Chat):
            await ws.send_json({"echo": message.text})

    @app.websocket("/lenient")
    async def lenient(ws: WebSocket) -> None:
        await ws.accept()
        message = await ws.receive_model(Chat, on_invalid="error")
        await ws.send_json({"echo": message.text})
        await ws.close()

    return app


def handshake_status(url: str, **headers: str) -> tuple[int, bytes]:
    """The status and body the server answers a WebSocket handshake with."""
    import base64
    import os

    import httpx

    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
    }
    response = httpx.get(url, headers={**upgrade, **headers}, timeout=10)
    return response.status_code, response.content


def test_a_foreign_origin_carrying_cookies_gets_403_before_the_handler() -> None:
    app = guarded_app(WebSocketConfig(allowed_origins=["https://*.example.com"]))
    ran: list[str] = []

    @app.websocket("/spy")
    async def spy(ws: WebSocket) -> None:
        ran.append("handler")
        await ws.accept()
        await ws.close()

    with live_server(app, ws="websockets-sansio") as url:
        host = url.removeprefix("http://")
        status, body = handshake_status(
            url + "/spy", Origin="https://evil.test", Cookie="session=abc"
        )
        assert status == 403
        assert b"This origin may not open this WebSocket." in body
        assert ran == []
        for origin in (f"http://{host}", "https://app.example.com"):
            status, _ = handshake_status(url + "/spy", Origin=origin, Cookie="session=abc")
            assert status == 101, origin
        # No cookie, nothing to abuse: other sites may connect (a public feed).
        assert handshake_status(url + "/spy", Origin="https://evil.test")[0] == 101
        assert handshake_status(url + "/spy", Origin="null", Cookie="a=b")[0] == 403
    assert ran == ["handler"] * 3


def test_origin_rules() -> None:
    from nightowl.requests import HTTPConnection

    def allowed(config: WebSocketConfig, **headers: str) -> bool:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return origin_allowed(HTTPConnection({"type": "websocket", "headers": raw}), config)

    default = WebSocketConfig()
    always = WebSocketConfig(check_origin="always")
    assert allowed(default, Host="a.test", Origin="https://b.test") is True
    assert allowed(always, Host="a.test", Origin="https://b.test") is False
    assert allowed(always, Host="a.test:443", Origin="https://a.test") is True
    assert allowed(always, Host="a.test") is True  # no Origin: not a browser
    assert allowed(WebSocketConfig(check_origin="never"), Host="a", Origin="http://b") is True
    anyone = WebSocketConfig(check_origin="always", allowed_origins=["*"])
    assert allowed(anyone, Host="a.test", Origin="https://b.test") is True
    subdomains = WebSocketConfig(check_origin="always", allowed_origins=["https://*.b.test"])
    assert allowed(subdomains, Host="a.test", Origin="https://x.b.test") is True
    assert allowed(subdomains, Host="a.test", Origin="https://xb.test") is False
    assert allowed(subdomains, Host="a.test", Origin="http://x.b.test") is False


def test_foreign_origin_through_the_test_client_is_refused() -> None:
    with TestClient(guarded_app()) as client:
        client.cookies.set("session", "abc")
        with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117
            with client.websocket_connect("/chat", headers={"Origin": "https://evil.test"}):
                pass
        assert refused.value.code == 1008
        with client.websocket_connect("/chat", headers={"Origin": "http://testserver"}) as ws:
            ws.send_json({"text": "hi"})
            assert ws.receive_json() == {"echo": "hi"}


def test_an_invalid_message_closes_with_1007() -> None:
    with TestClient(guarded_app()) as client, client.websocket_connect("/chat") as ws:
        ws.send_json({"text": "fine"})
        assert ws.receive_json() == {"echo": "fine"}
        ws.send_json({"text": "x" * 21})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1007


def test_an_invalid_message_can_be_answered_with_an_error_frame() -> None:
    with TestClient(guarded_app()) as client, client.websocket_connect("/lenient") as ws:
        ws.send_text("not json")
        error = ws.receive_json()
        assert error["type"] == "error"
        assert error["errors"][0]["type"] == "json_invalid"
        ws.send_json({"nothing": 1})
        assert ws.receive_json()["errors"][0]["loc"] == ["text"]
        ws.send_json({"text": "ok"})
        assert ws.receive_json() == {"echo": "ok"}


def test_a_message_over_the_size_limit_closes_with_1009() -> None:
    app = guarded_app(WebSocketConfig(max_message_size=64))
    with TestClient(app) as client, client.websocket_connect("/chat") as ws:
        ws.send_json({"text": "small"})
        assert ws.receive_json() == {"echo": "small"}
        ws.send_text("é" * 40)  # 40 characters, 80 bytes
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009


def test_a_silent_client_is_closed_after_the_idle_timeout() -> None:
    app = guarded_app(WebSocketConfig(idle_timeout=0.2))
    with TestClient(app) as client, client.websocket_connect("/chat") as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1001
        assert closed.value.reason == "Idle timeout."


def require_token(ws: WebSocket) -> str:
    token: str | None = ws.query_params.get("token")
    if token is None or token != "s3cret":
        raise HTTPException(401, "A token is required.")
    return token


def test_a_dependency_refusing_the_connection() -> None:
    app = App()

    @app.websocket("/private")
    async def private(ws: WebSocket, token: Annotated[str, Depends(require_token)]) -> None:
        await ws.accept()
        await ws.send_json({"token": token})
        await ws.close()

    @app.websocket("/later")
    async def later(ws: WebSocket) -> None:
        await ws.accept()
        raise HTTPException(403, "Not in this room.")

    with live_server(app, ws="websockets-sansio") as url:
        status, body = handshake_status(url + "/private")
        assert status == 401
        assert b"A token is required." in body
        assert handshake_status(url + "/private?token=s3cret")[0] == 101
    with TestClient(app) as client:
        with client.websocket_connect("/private?token=s3cret") as ws:
            assert ws.receive_json() == {"token": "s3cret"}
        with client.websocket_connect("/later") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert (closed.value.code, closed.value.reason) == (1008, "Not in this room.")


def test_the_disconnect_the_handler_raised_reaches_the_test_as_starlette_does() -> None:
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            text = await websocket.receive_text()
            await websocket.send_text(f"Message text was: {text}")

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as session:
        session.send_text("one")
        assert session.receive_text() == "Message text was: one"
