"""CSRF: unsafe requests that carry the session cookie need the token and a same-site origin."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest

from nightowl import App, Form, Request, UploadFile
from nightowl.sessions.csrf import csrf_exempt, get_csrf_token
from nightowl.testing import TestClient
from tests.live import live_server

KEY = "a-test-secret-key-that-is-long-enough"


def build(**csrf: Any) -> App:
    app = App(sessions={"csrf": csrf} if csrf else True, secret_key=KEY)

    @app.get("/form")
    def form(request: Request) -> dict[str, str]:
        return {"token": get_csrf_token(request)}

    @app.post("/comment")
    def comment(text: Annotated[str, Form()]) -> dict[str, str]:
        return {"saved": text}

    @app.post("/upload")
    def upload(title: Annotated[str, Form()], file: UploadFile) -> dict[str, Any]:
        return {"title": title, "size": len(file.file.read())}

    @app.route("/thing", methods=["PUT", "PATCH", "DELETE"])
    def thing(request: Request) -> dict[str, str]:
        return {"method": request.method}

    @app.post("/hooks/payment")
    @csrf_exempt
    def webhook() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.fixture
def client() -> Any:
    with TestClient(build()) as client:
        yield client


def _token(client: TestClient) -> str:
    token: str = client.get("/form").json()["token"]
    assert "session" in client.cookies
    return token


def test_no_session_cookie_is_not_checked(client: TestClient) -> None:
    # API clients without the cookie (tokens, keys) are not affected.
    assert client.post("/comment", data={"text": "hi"}).json() == {"saved": "hi"}
    assert client.put("/thing").json() == {"method": "PUT"}


def test_form_field_token(client: TestClient) -> None:
    token = _token(client)
    ok = client.post("/comment", data={"text": "hi", "csrf_token": token})
    assert ok.status_code == 200
    assert ok.json() == {"saved": "hi"}  # the handler still reads the whole form


def test_missing_or_wrong_token_is_403(client: TestClient) -> None:
    token = _token(client)
    missing = client.post("/comment", data={"text": "hi"})
    assert missing.status_code == 403
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["title"] == "CSRF verification failed"
    assert "csrf_input()" in missing.json()["detail"]
    wrong = client.post("/comment", data={"text": "hi", "csrf_token": token[:-2] + "AA"})
    assert wrong.status_code == 403
    assert client.post("/comment", data={"text": "hi", "csrf_token": "!!"}).status_code == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_unsafe_method_is_checked(client: TestClient, method: str) -> None:
    token = _token(client)
    path = "/comment" if method == "POST" else "/thing"
    assert client.request(method, path).status_code == 403
    answered = client.request(method, path, headers={"X-CSRF-Token": token}, data={"text": "x"})
    assert answered.status_code == 200


def test_header_token(client: TestClient) -> None:
    token = _token(client)
    response = client.post("/comment", data={"text": "hi"}, headers={"X-CSRF-Token": token})
    assert response.json() == {"saved": "hi"}


def test_tokens_are_masked_differently_each_time(client: TestClient) -> None:
    first, second = _token(client), _token(client)
    assert first != second
    for token in (first, second):
        assert client.post("/comment", data={"text": "x", "csrf_token": token}).status_code == 200


def test_token_from_another_session_is_refused() -> None:
    with TestClient(build()) as alice, TestClient(build()) as mallory:
        _token(alice)
        stolen = _token(mallory)
        response = alice.post("/comment", data={"text": "x", "csrf_token": stolen})
        assert response.status_code == 403


def test_multipart_form_token(client: TestClient) -> None:
    token = _token(client)
    response = client.post(
        "/upload",
        data={"title": "report", "csrf_token": token},
        files={"file": ("a.txt", b"12345", "text/plain")},
    )
    assert response.json() == {"title": "report", "size": 5}
    refused = client.post("/upload", data={"title": "r"}, files={"file": ("a.txt", b"1")})
    assert refused.status_code == 403


def test_foreign_origin_is_refused_even_with_a_token(client: TestClient) -> None:
    token = _token(client)
    data = {"text": "x", "csrf_token": token}
    evil = client.post("/comment", data=data, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert "evil.example" in evil.json()["detail"]
    assert client.post("/comment", data=data, headers={"Origin": "null"}).status_code == 403
    same = client.post("/comment", data=data, headers={"Origin": "http://testserver"})
    assert same.status_code == 200


def test_sec_fetch_site(client: TestClient) -> None:
    token = _token(client)
    data = {"text": "x", "csrf_token": token}
    for site, status in (
        ("cross-site", 403),
        ("same-site", 403),
        ("same-origin", 200),
        ("none", 200),
    ):
        response = client.post("/comment", data=data, headers={"Sec-Fetch-Site": site})
        assert response.status_code == status, site


def test_trusted_origins() -> None:
    with TestClient(build(trusted_origins=["https://www.example.com"])) as client:
        token = _token(client)
        response = client.post(
            "/comment",
            data={"text": "x", "csrf_token": token},
            headers={"Origin": "https://www.example.com"},
        )
        assert response.status_code == 200


def test_exempt_route_and_paths() -> None:
    with TestClient(build()) as client:
        _token(client)
        assert client.post("/hooks/payment").json() == {"ok": True}
        assert client.post("/comment", data={"text": "x"}).status_code == 403
    with TestClient(build(exempt_paths=["/comment"])) as client:
        _token(client)
        assert client.post("/comment", data={"text": "x"}).status_code == 200


def test_tampered_session_cookie_is_refused(client: TestClient) -> None:
    token = _token(client)
    client.cookies.set("session", "forged")
    response = client.post("/comment", data={"text": "x", "csrf_token": token})
    assert response.status_code == 403


def test_csrf_can_be_turned_off() -> None:
    app = App(sessions={"csrf": False}, secret_key=KEY)
    app.get("/form")(lambda: {})

    @app.get("/touch")
    def touch(request: Request) -> dict[str, str]:
        request.session["a"] = "b"
        return {}

    @app.post("/comment")
    def comment() -> dict[str, str]:
        return {"saved": "yes"}

    with TestClient(app) as client:
        client.get("/touch")
        assert client.post("/comment").status_code == 200


def test_forged_cross_origin_post_through_a_real_server() -> None:
    with live_server(build()) as url, httpx.Client(base_url=url) as browser:
        token = browser.get("/form").json()["token"]
        ok = browser.post(
            "/comment", data={"text": "mine", "csrf_token": token}, headers={"Origin": url}
        )
        assert ok.json() == {"saved": "mine"}
        forged = browser.post(
            "/comment",
            data={"text": "evil"},
            headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert forged.status_code == 403
