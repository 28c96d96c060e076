"""One client identity behind trusted proxies, and a request id on every request, through
a real server."""

from __future__ import annotations

import logging

import pytest

from nightowl import App, Request, WebSocket
from nightowl.exceptions import ImproperlyConfigured
from tests.live import live_client, live_server

# uvicorn believes X-Forwarded-For from 127.0.0.1 by default; here nightowl alone decides.
NO_PROXY_HEADERS = {"proxy_headers": False}


def make_app(**options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.get("/client")
    def client(request: Request) -> dict[str, object]:
        return {
            "host": request.client.host if request.client else None,
            "scheme": request.url.scheme,
            "request_id": request.request_id,
        }

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        client = websocket.client
        await websocket.send_json({"host": client.host if client else None})
        await websocket.close()

    return app


# -- request ids ------------------------------------------------------------------------------
def test_every_response_carries_a_new_request_id() -> None:
    with live_client(make_app()) as client:
        first, second = client.get("/client"), client.get("/client")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.json()["request_id"] == first.headers["x-request-id"]


def test_a_well_formed_incoming_request_id_is_kept() -> None:
    with live_client(make_app()) as client:
        response = client.get("/client", headers={"X-Request-ID": "edge-7f3a:42/b="})
    assert response.headers["x-request-id"] == "edge-7f3a:42/b="
    assert response.json()["request_id"] == "edge-7f3a:42/b="


@pytest.mark.parametrize("sent", ["", "has space", "a" * 129, "<script>", "ünïcode"])
def test_a_malformed_request_id_is_replaced(sent: str) -> None:
    with live_client(make_app()) as client:
        response = client.get("/client", headers={b"X-Request-ID": sent.encode()})
    assert response.headers["x-request-id"] != sent
    assert len(response.headers["x-request-id"]) == 32


def test_problem_bodies_and_log_lines_carry_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler_ids: list[str] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_ids.append(getattr(record, "request_id", "?"))

    from nightowl._logging import RequestIdFilter

    recorder = Recorder()
    recorder.addFilter(RequestIdFilter())
    error_log = logging.getLogger("nightowl.error")
    error_log.addHandler(recorder)
    try:
        with caplog.at_level(logging.ERROR, "nightowl.error"), live_client(make_app()) as client:
            boom = client.get("/boom", headers={"X-Request-ID": "trace-1"})
            missing = client.get("/nowhere", headers={"X-Request-ID": "trace-2"})
    finally:
        error_log.removeHandler(recorder)
    assert boom.status_code == 500
    assert boom.json()["request_id"] == "trace-1"
    assert missing.json()["request_id"] == "trace-2"
    assert handler_ids == ["trace-1"]


def test_request_ids_can_be_turned_off() -> None:
    with live_client(make_app(request_id_header=None)) as client:
        response = client.get("/client")
        missing = client.get("/nowhere")
    assert "x-request-id" not in response.headers
    assert response.json()["request_id"] is None
    assert "request_id" not in missing.json()


# -- trusted proxies --------------------------------------------------------------------------
def test_without_trusted_proxies_forwarded_headers_are_ignored() -> None:
    with live_client(make_app(), **NO_PROXY_HEADERS) as client:
        body = client.get("/client", headers={"X-Forwarded-For": "203.0.113.9"}).json()
    assert body["host"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("headers", "host", "scheme"),
    [
        ({"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9", "http"),
        ({"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, "203.0.113.9", "https"),
        # A client may put anything first: the nearest untrusted hop wins.
        ({"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.1.2.3"}, "203.0.113.9", "http"),
        ({"Forwarded": 'for="[2001:db8::7]:4711";proto=https'}, "2001:db8::7", "https"),
        ({"Forwarded": "for=192.0.2.60;proto=http, for=10.0.0.2"}, "192.0.2.60", "http"),
        ({"Forwarded": "for=unknown"}, "127.0.0.1", "http"),
        ({"X-Forwarded-For": "not-an-address"}, "127.0.0.1", "http"),
    ],
)
def test_a_trusted_proxy_sets_the_client_and_scheme(
    headers: dict[str, str], host: str, scheme: str
) -> None:
    app = make_app(trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    with live_client(app, **NO_PROXY_HEADERS) as client:
        body = client.get("/client", headers=headers).json()
    assert (body["host"], body["scheme"]) == (host, scheme)


def test_an_untrusted_peer_cannot_set_the_client() -> None:
    with live_client(make_app(trusted_proxies=["10.0.0.0/8"]), **NO_PROXY_HEADERS) as client:
        body = client.get("/client", headers={"X-Forwarded-For": "203.0.113.9"}).json()
    assert body["host"] == "127.0.0.1"


def test_websockets_see_the_same_client() -> None:
    connect = pytest.importorskip("websockets.sync.client").connect
    with live_server(make_app(trusted_proxies=["127.0.0.1"]), **NO_PROXY_HEADERS) as url:
        ws_url = url.replace("http", "ws", 1) + "/ws"
        with connect(ws_url, additional_headers={"X-Forwarded-For": "198.51.100.4"}) as ws:
            assert ws.recv(timeout=10) == '{"host":"198.51.100.4"}'


@pytest.mark.parametrize("proxies", [["10.0.0.300"], ["proxy.internal"], "10.0.0.1"])
def test_bad_trusted_proxies_are_refused(proxies: object) -> None:
    with pytest.raises(ImproperlyConfigured, match="trusted_proxies"):
        App(trusted_proxies=proxies)  # type: ignore[arg-type]


def test_login_throttling_counts_the_client_behind_the_proxy(empty_database_url: str) -> None:
    from nightowl.auth import Auth
    from nightowl.auth.mail import MemoryMailBackend
    from nightowl.auth.throttle import LoginThrottle
    from tests.auth.conftest import FAST, SECRET, log_in

    app = App(database=empty_database_url, secret_key=SECRET, trusted_proxies=["127.0.0.1"])
    throttle = LoginThrottle(max_per_account=100, max_per_client=2, window=60)
    Auth(app, hasher=FAST, mail=MemoryMailBackend(), throttle=throttle)
    app.state.database.create_all()
    try:
        with live_client(app, **NO_PROXY_HEADERS) as client:
            client.headers["X-Forwarded-For"] = "203.0.113.1"
            assert [log_in(client, username=name).status_code for name in "abc"] == [
                400,
                400,
                429,
            ]
            client.headers["X-Forwarded-For"] = "203.0.113.2"  # another client, same proxy
            assert log_in(client, username="d").status_code == 400
    finally:
        app.state.database.close()
