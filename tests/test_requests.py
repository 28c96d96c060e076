"""Request and WebSocket as siblings on one HTTPConnection base."""

from __future__ import annotations

from typing import Any

from nightowl import App, Request, WebSocket
from nightowl.requests import HTTPConnection
from nightowl.testing import TestClient


def make_app() -> App:
    app = App()

    @app.get("/items/{item_id}")
    def item(item_id: int, connection: HTTPConnection) -> dict[str, Any]:
        return {
            "kind": type(connection).__name__,
            "path": connection.path,
            "path_params": connection.path_params,
            "query": dict(connection.query_params),
            "header": connection.headers.get("x-tea"),
            "cookie": connection.cookies.get("flavour"),
            "repr": repr(connection),
            "client_host": connection.client.host if connection.client else None,
        }

    @app.websocket("/ws/{room}")
    async def room(ws: WebSocket, connection: HTTPConnection) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "same": connection is ws,
                "repr": repr(ws),
                "room": ws.path_params["room"],
                "header": ws.headers.get("x-tea"),
                "query": dict(ws.query_params),
                "url": str(ws.url),
                "is_request": isinstance(ws, Request),
                "has_body": any(hasattr(ws, name) for name in ("body", "json", "form", "method")),
            }
        )
        await ws.close()

    return app


def test_a_handler_can_take_the_connection_itself() -> None:
    client = TestClient(make_app())
    client.cookies.set("flavour", "mint")
    answer = client.get("/items/3?q=tea", headers={"X-Tea": "green"}).json()
    assert answer == {
        "kind": "Request",
        "path": "/items/3",
        "path_params": {"item_id": "3"},
        "query": {"q": "tea"},
        "header": "green",
        "cookie": "mint",
        "repr": "<Request GET /items/3>",
        "client_host": "testclient",
    }


def test_a_websocket_is_a_connection_but_not_a_request() -> None:
    client = TestClient(make_app())
    with client.websocket_connect("/ws/lobby?x=1", headers={"X-Tea": "black"}) as ws:
        answer = ws.receive_json()
    assert answer == {
        "same": True,
        "repr": "<WebSocket /ws/lobby>",
        "room": "lobby",
        "header": "black",
        "query": {"x": "1"},
        "url": "ws://testserver/ws/lobby?x=1",
        "is_request": False,
        "has_body": False,
    }


def test_client_is_an_address_with_host_and_port_that_still_compares_as_a_tuple() -> None:
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "client": ["10.0.0.1", 5000]}
    )
    assert request.client is not None
    assert (request.client.host, request.client.port) == ("10.0.0.1", 5000)
    assert request.client == ("10.0.0.1", 5000)
    assert Request({"type": "http", "method": "GET", "path": "/", "headers": []}).client is None


def url_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/notes/{note_id}")
    def note(note_id: int, request: Request) -> dict[str, str]:
        return {"self": request.url_for("note", note_id=note_id + 1)}

    return app


def test_url_for_gives_the_path_under_the_apps_root_path() -> None:
    assert TestClient(url_app()).get("/notes/1").json() == {"self": "/notes/2"}
    behind_proxy = TestClient(url_app(root_path="/api"))
    assert behind_proxy.get("/api/notes/1").json() == {"self": "/api/notes/2"}
    from_the_server = TestClient(url_app(), root_path="/v2")
    assert from_the_server.get("/notes/1").json() == {"self": "/v2/notes/2"}


def test_url_for_in_a_mounted_app_includes_the_mount_prefix() -> None:
    parent = App()
    parent.mount("/blog", url_app())
    assert TestClient(parent).get("/blog/notes/1").json() == {"self": "/blog/notes/2"}
