"""HTTPSRedirectMiddleware: plain HTTP goes to HTTPS, HTTPS passes through."""

from __future__ import annotations

import pytest

from nightowl import App, WebSocket
from nightowl.exceptions import WebSocketDisconnect
from nightowl.middleware import HTTPSRedirectMiddleware
from nightowl.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/items/{name}")
    def item(name: str) -> dict[str, str]:
        return {"name": name}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app.add_middleware(HTTPSRedirectMiddleware)
    return app


def test_http_is_redirected_to_the_same_url_over_https() -> None:
    client = TestClient(make_app(), follow_redirects=False)
    response = client.post("/items/a%20b?x=1")
    assert response.status_code == 307
    assert response.headers["location"] == "https://testserver/items/a%20b?x=1"


def test_the_port_is_kept_unless_it_is_plain_http_s_default() -> None:
    app = make_app()
    assert (
        TestClient(app, base_url="http://example.com:8080", follow_redirects=False)
        .get("/items/a")
        .headers["location"]
        == "https://example.com:8080/items/a"
    )
    assert (
        TestClient(app, base_url="http://example.com:80", follow_redirects=False)
        .get("/items/a")
        .headers["location"]
        == "https://example.com/items/a"
    )


def test_https_requests_pass_through() -> None:
    client = TestClient(make_app(), base_url="https://testserver")
    response = client.get("/items/a")
    assert response.status_code == 200
    assert response.json() == {"name": "a"}


def test_an_insecure_websocket_is_refused() -> None:
    client = TestClient(make_app())
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws"):
        pass
    assert refused.value.code == 1008
    assert refused.value.reason == "Use wss://testserver/ws"
