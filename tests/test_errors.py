"""Errors: RFC 9457 problems, exception handlers, 500s without internals, debug pages."""

import logging
from typing import Any

import pytest

from nightowl import App, HTTPException, JSONResponse, Request
from nightowl.testing import TestClient


def test_http_exception_problem_shape(app: App) -> None:
    @app.get("/users/{id}")
    def user(id: int) -> None:
        raise HTTPException(404, "no such user", headers={"X-Trace": "1"})

    response = TestClient(app).get("/users/1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-trace"] == "1"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no such user",
        "request_id": response.headers["x-request-id"],
    }


def test_http_exception_custom_type_and_extra(app: App) -> None:
    @app.get("/pay")
    def pay() -> None:
        raise HTTPException(
            402,
            "out of credit",
            type="https://example.com/probs/credit",
            title="Out of credit",
            extra={"balance": 30},
        )

    response = TestClient(app).get("/pay", headers={"X-Request-ID": "req-42"})
    assert response.json() == {
        "type": "https://example.com/probs/credit",
        "title": "Out of credit",
        "status": 402,
        "detail": "out of credit",
        "balance": 30,
        "request_id": "req-42",
    }


def test_unhandled_exception_is_500_without_internals(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret database password in message")

    with caplog.at_level(logging.ERROR, logger="nightowl.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "The server could not complete the request.",
        "request_id": response.headers["x-request-id"],
    }
    assert "secret" not in response.text
    assert "RuntimeError: secret database password" in caplog.text  # the traceback is logged


def test_debug_mode_shows_traceback(caplog: pytest.LogCaptureFixture) -> None:
    app = App(debug=True)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.CRITICAL):
        api = client.get("/boom")
        page = client.get("/boom", headers={"accept": "text/html"})
    assert api.status_code == 500
    assert api.json()["detail"] == "RuntimeError: kaboom"
    assert any("kaboom" in line for line in api.json()["traceback"])
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "RuntimeError: kaboom" in page.text and "in boom" in page.text


def test_custom_exception_handler_by_class_and_status(app: App) -> None:
    class OutOfStock(Exception):
        pass

    class Discontinued(OutOfStock):
        pass

    @app.exception_handler(OutOfStock)
    async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
        return JSONResponse({"error": type(exc).__name__, "path": request.path}, status_code=409)

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"missing": request.path}, status_code=404)

    @app.get("/buy")
    def buy() -> None:
        raise Discontinued()

    client = TestClient(app)
    response = client.get("/buy")
    assert response.status_code == 409
    assert response.json() == {"error": "Discontinued", "path": "/buy"}
    assert client.get("/nope").json() == {"missing": "/nope"}


def test_failing_exception_handler_falls_back_to_500(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    @app.exception_handler(ValueError)
    def broken(request: Request, exc: ValueError) -> JSONResponse:
        raise KeyError("handler bug")

    @app.get("/")
    def index() -> None:
        raise ValueError()

    with caplog.at_level(logging.CRITICAL):
        assert TestClient(app, raise_server_exceptions=False).get("/").status_code == 500


def test_response_validation_error_is_500(app: App, caplog: pytest.LogCaptureFixture) -> None:
    from pydantic import BaseModel

    class Out(BaseModel):
        id: int

    @app.get("/")
    def index() -> Out:
        return {"id": "not a number"}  # type: ignore[return-value]

    with caplog.at_level(logging.CRITICAL):
        response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert "not a number" not in response.text


def test_validation_error_shape_matches_design(app: App) -> None:
    from pydantic import BaseModel

    class Signup(BaseModel):
        email: str
        age: int

    @app.post("/signup")
    def signup(data: Signup) -> dict[str, Any]:
        return data.model_dump()

    response = TestClient(app).post("/signup", json={"email": "a@b.c", "age": "old"})
    body = response.json()
    assert body.pop("request_id") == response.headers["x-request-id"]
    assert body == {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "1 validation error",
        "errors": [
            {
                "loc": ["body", "age"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
            }
        ],
    }
