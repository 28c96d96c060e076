"""TrustedHostMiddleware: which Host headers get through, and what the rest see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from nightowl import App, WebSocket
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware import TrustedHostMiddleware
from nightowl.testing import TestClient
from nightowl.types import Message

CallASGI = Callable[..., list[Message]]
BAD_HOST = {
    "type": "about:blank",
    "title": "Bad Request",
    "status": 400,
    "detail": "The Host header is missing or names a host this server does not serve.",
}


def make_app(allowed_hosts: list[str], **options: Any) -> App:
    app = App()

    @app.get("/items")
    def items() -> dict[str, bool]:
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts, **options)
    return app


def get(app: App, host: str, path: str = "/items") -> Any:
    with TestClient(app, follow_redirects=False) as client:
        return client.get(path, headers={"Host": host})


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "example.com:8000",
        "EXAMPLE.com",
        "example.com.",
        "api.example.com",
        "a.b.example.com:443",
        "127.0.0.1:8000",
        "[::1]:8000",
    ],
)
def test_allowed_hosts_get_through(host: str) -> None:
    app = make_app(["example.com", "*.example.com", "127.0.0.1", "::1"])
    response = get(app, host)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "example.com.evil.com",
        "notexample.com",
        "example.org",
        "exa mple.com",
        "example.com/evil",
        "user@example.com",
        "example.com:http",
        "[::2]",
        "..example.com",
    ],
)
def test_other_hosts_get_a_400_problem(host: str) -> None:
    response = get(make_app(["example.com", "*.example.com", "::1"]), host)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {**BAD_HOST, "request_id": response.headers["x-request-id"]}


def test_wildcard_subdomain_does_not_cover_the_domain_itself() -> None:
    app = make_app(["*.example.com"])
    assert get(app, "api.example.com").status_code == 200
    assert get(app, "example.com").status_code == 400


def test_star_allows_any_host() -> None:
    assert get(make_app(["*"]), "anything.invalid").status_code == 200


def test_missing_host_header_is_refused(call_asgi: CallASGI) -> None:
    start, body = call_asgi(make_app(["example.com"]), "/items", {})
    assert start["status"] == 400
    problem = json.loads(body["body"])
    assert problem.pop("request_id")
    assert problem == BAD_HOST


def test_www_redirect_keeps_path_port_and_query() -> None:
    app = make_app(["www.example.com"], www_redirect=True)
    with TestClient(app, follow_redirects=False) as client:
        response = client.get("/items?page=2&q=a%20b", headers={"Host": "example.com:8000"})
    assert response.status_code == 308
    assert response.headers["location"] == "http://www.example.com:8000/items?page=2&q=a%20b"


def test_www_redirect_quotes_the_path() -> None:
    app = make_app(["www.example.com"], www_redirect=True)
    response = get(app, "example.com", path="/caf%C3%A9%20au%20lait")
    assert response.headers["location"] == "http://www.example.com/caf%C3%A9%20au%20lait"


def test_without_www_redirect_the_bare_domain_is_refused() -> None:
    assert get(make_app(["www.example.com"]), "example.com").status_code == 400


def test_www_redirect_only_for_hosts_whose_www_form_is_allowed() -> None:
    app = make_app(["www.example.com"], www_redirect=True)
    assert get(app, "evil.com").status_code == 400
    assert get(app, "www.www.example.com").status_code == 400


def test_websocket_from_allowed_host_is_served(call_asgi: CallASGI) -> None:
    messages = call_asgi(make_app(["example.com"]), "/ws", {"Host": "example.com"}, "websocket")
    assert [m["type"] for m in messages] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert messages[1]["text"] == "hello"


def test_websocket_from_other_host_is_closed(call_asgi: CallASGI) -> None:
    messages = call_asgi(make_app(["example.com"]), "/ws", {"Host": "evil.com"}, "websocket")
    assert len(messages) == 1
    assert messages[0]["type"] == "websocket.close"
    assert messages[0]["code"] == 1008


def test_websocket_denial_response_when_the_server_supports_it(call_asgi: CallASGI) -> None:
    messages = call_asgi(
        make_app(["example.com"]),
        "/ws",
        {"Host": "evil.com"},
        "websocket",
        extensions={"websocket.http.response": {}},
    )
    start, body = messages
    assert start["type"] == "websocket.http.response.start"
    assert start["status"] == 400
    assert dict(start["headers"])[b"content-type"] == b"application/problem+json"
    assert body["type"] == "websocket.http.response.body"
    problem = json.loads(body["body"])
    assert problem.pop("request_id")
    assert problem == BAD_HOST


@pytest.mark.parametrize(
    "allowed_hosts",
    ["example.com", [], ["example.com:8000"], ["a*.example.com"], ["*example.com"], ["x.com/a"]],
)
def test_bad_configuration_is_refused(allowed_hosts: Any) -> None:
    with pytest.raises(ImproperlyConfigured):
        TrustedHostMiddleware(App(), allowed_hosts=allowed_hosts)
