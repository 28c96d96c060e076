"""CORSMiddleware: preflight answers, headers on simple responses, Vary, credentials."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl import App, PlainTextResponse
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware import CORSMiddleware
from nightowl.testing import TestClient

ORIGIN = "https://a.example"


def make_client(**options: Any) -> TestClient:
    app = App()

    @app.get("/items")
    def items() -> dict[str, int]:
        return {"count": 3}

    @app.post("/items")
    def create() -> dict[str, bool]:
        return {"created": True}

    @app.get("/custom")
    def custom() -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"Vary": "Accept-Language", "X-Total": "7"})

    app.add_middleware(CORSMiddleware, **options)
    return TestClient(app)


def preflight(
    client: TestClient, origin: str = ORIGIN, method: str = "POST", headers: str | None = None
) -> Any:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options("/items", headers=request_headers)


def test_simple_request_from_allowed_origin_gets_cors_headers() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.json() == {"count": 3}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_simple_request_from_other_origin_gets_no_cors_headers() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = client.get("/items", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200  # the browser, not the server, withholds the body
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_request_without_origin_still_varies_on_origin() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = client.get("/items")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_vary_is_appended_to_the_handlers_own() -> None:
    with make_client(allow_origins=[ORIGIN], expose_headers=["X-Total"]) as client:
        response = client.get("/custom", headers={"Origin": ORIGIN})
    assert response.text == "hi"
    assert response.headers["vary"] == "Accept-Language, Origin"
    assert response.headers["access-control-expose-headers"] == "X-Total"


def test_wildcard_origin_sends_star_without_vary() -> None:
    with make_client(allow_origins=["*"]) as client:
        response = client.get("/items", headers={"Origin": "https://anyone.example"})
        plain = client.get("/items")
    assert response.headers["access-control-allow-origin"] == "*"
    assert "vary" not in response.headers
    assert "vary" not in plain.headers
    assert "access-control-allow-origin" not in plain.headers


def test_wildcard_with_credentials_echoes_the_origin() -> None:
    with make_client(allow_origins=["*"], allow_credentials=True) as client:
        response = client.get("/items", headers={"Origin": "https://anyone.example"})
        answer = preflight(client, origin="https://anyone.example", method="GET")
    assert response.headers["access-control-allow-origin"] == "https://anyone.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://anyone.example"
    assert answer.headers["access-control-allow-credentials"] == "true"


def test_origin_regex() -> None:
    with make_client(allow_origin_regex=r"https://[a-z]+\.example\.org") as client:
        good = client.get("/items", headers={"Origin": "https://shop.example.org"})
        bad = client.get("/items", headers={"Origin": "https://shop.example.org.evil.com"})
    assert good.headers["access-control-allow-origin"] == "https://shop.example.org"
    assert "access-control-allow-origin" not in bad.headers


def test_origin_comparison_ignores_case() -> None:
    with make_client(allow_origins=["https://A.example"]) as client:
        response = client.get("/items", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_preflight_is_answered_without_the_app() -> None:
    with make_client(
        allow_origins=[ORIGIN],
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "X-Request-Id"],
        max_age=300,
    ) as client:
        response = preflight(client, headers="authorization, Content-Type")
    assert response.status_code == 200  # /items has no OPTIONS route; the middleware answered
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    allowed = response.headers["access-control-allow-headers"].split(", ")
    assert {"authorization", "x-request-id", "content-type"} <= set(allowed)
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers", "culprit"),
    [
        (
            "https://evil.example",
            "POST",
            None,
            "the origin https://evil.example is not in allow_origins",
        ),
        (ORIGIN, "DELETE", None, "the method DELETE is not in allow_methods"),
        (ORIGIN, "POST", "X-Secret", "the header x-secret is not in allow_headers"),
    ],
)
def test_preflight_rejections_are_problems(
    origin: str, method: str, headers: str | None, culprit: str
) -> None:
    with make_client(allow_origins=[ORIGIN], allow_methods=["GET", "POST"]) as client:
        response = preflight(client, origin=origin, method=method, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in response.headers
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == "Bad Request"
    assert body["status"] == 400
    assert body["detail"] == (
        f"The browser may not make this cross-origin request: {culprit} (options of CORSMiddleware)."
    )


def test_several_preflight_problems_read_as_a_sentence() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = preflight(
            client, origin="https://evil.example", method="PUT", headers="X-A, X-B"
        )
    assert response.json()["detail"] == (
        "The browser may not make this cross-origin request: the origin https://evil.example is "
        "not in allow_origins, the method PUT is not in allow_methods and the headers x-a, x-b "
        "are not in allow_headers (options of CORSMiddleware)."
    )


def test_preflight_with_wildcards_echoes_the_request() -> None:
    with make_client(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]) as client:
        response = preflight(client, method="PURGE", headers="X-One, X-Two")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "PURGE"
    assert response.headers["access-control-allow-headers"] == "x-one, x-two"
    assert "vary" not in response.headers


def test_options_without_request_method_reaches_the_app() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = client.options("/items", headers={"Origin": ORIGIN})
    assert response.status_code == 405  # the app's own answer, CORS headers added
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_error_responses_carry_cors_headers_too() -> None:
    with make_client(allow_origins=[ORIGIN]) as client:
        response = client.get("/missing", headers={"Origin": ORIGIN})
    assert response.status_code == 404
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_credentials_header_on_simple_responses() -> None:
    with make_client(allow_origins=[ORIGIN], allow_credentials=True) as client:
        response = client.post("/items", headers={"Origin": ORIGIN})
    assert response.json() == {"created": True}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": "https://a.example"},
        {"allow_methods": "GET"},
        {"allow_origins": ["https://a.example/"]},
        {"allow_origins": ["https://a.example/path"]},
        {"allow_origins": ["a.example"]},
        {"allow_origin_regex": "("},
        {"max_age": -1},
    ],
)
def test_bad_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        CORSMiddleware(App(), **options)
