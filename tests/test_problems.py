"""The error format: one object writes every error response, and OpenAPI describes it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from nightowl import App, Depends, Form, HTTPException, Query, Request
from nightowl.db import ConflictError, Database, Session
from nightowl.exceptions import RequestValidationError
from nightowl.middleware import TrustedHostMiddleware
from nightowl.problems import ErrorFormat
from nightowl.responses import JSONResponse, Response
from nightowl.security import HTTPBearer
from nightowl.testing import TestClient

KEY = "a-test-secret-key-that-is-long-enough"
bearer = HTTPBearer()


class Item(BaseModel):
    name: str
    price: float


def simple(exc: HTTPException) -> dict[str, Any]:
    return {"error": exc.detail, "code": exc.status_code}


class Envelope(ErrorFormat):
    media_type = "application/vnd.error+json"

    def content(self, exc: HTTPException) -> Any:
        errors = exc.errors if isinstance(exc, RequestValidationError) else []
        return {"error": {"status": exc.status_code, "message": exc.detail, "fields": errors}}

    def schemas(self) -> tuple[dict[str, Any], str, str]:
        envelope = {"type": "object", "properties": {"error": {"type": "object"}}}
        return {"Envelope": envelope}, "Envelope", "Envelope"


def build(error_format: Any = None, **options: Any) -> App:
    app = App(error_format=error_format, **options)

    @app.get("/items/{item_id}")
    def item(item_id: int, limit: Annotated[int, Query(ge=1)] = 10) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, "No such item.")
        return {"id": item_id}

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.post("/login")
    def login(password: Annotated[str, Form()]) -> dict[str, str]:
        return {}

    @app.get("/me")
    def me(credentials: Annotated[Any, Depends(bearer)]) -> dict[str, str]:
        return {}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("internal detail")

    return app


def test_rfc_9457_is_the_default() -> None:
    response = TestClient(build()).get("/items/0")
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    body.pop("request_id", None)  # added when the request has an id
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No such item.",
    }


def test_every_error_goes_through_a_function_format(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    app = build(simple, max_body_size=100)
    app.static("/static", tmp_path)
    client = TestClient(app)
    expected = {
        ("GET", "/items/0"): (404, "No such item."),
        ("GET", "/nowhere"): (404, "Nothing matches the given URL."),
        ("DELETE", "/items/1"): (405, "DELETE is not allowed here."),
        ("GET", "/items/abc"): (422, "1 validation error"),
        ("GET", "/me"): (401, "Not authenticated: a bearer token is required."),
        ("GET", "/static/missing.txt"): (404, "File not found."),
        ("POST", "/static/a.txt"): (405, "POST is not allowed here."),
    }
    for (method, url), (status, detail) in expected.items():
        response = client.request(method, url)
        assert response.status_code == status, url
        assert response.headers["content-type"] == "application/json", url
        assert response.json() == {"error": detail, "code": status}, url
    bodies = {
        "malformed": client.post(
            "/items", content=b"{", headers={"content-type": "application/json"}
        ),
        "wrong type": client.post("/items", content=b"x", headers={"content-type": "text/plain"}),
        "too large": client.post("/items", json={"name": "x" * 200, "price": 1}),
    }
    assert [r.status_code for r in bodies.values()] == [400, 415, 413]
    assert all(set(r.json()) == {"error", "code"} for r in bodies.values())


def test_middleware_errors_use_the_format() -> None:
    app = build(simple)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    response = TestClient(app).get("/items/1")
    assert response.status_code == 400
    assert response.json()["code"] == 400


def test_an_error_format_class_with_its_media_type_and_schema() -> None:
    app = build(Envelope())
    client = TestClient(app)
    response = client.get("/items/1?limit=0")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/vnd.error+json"
    fields = response.json()["error"]["fields"]
    assert fields == [
        {
            "loc": ["query", "limit"],
            "msg": "Input should be greater than or equal to 1",
            "type": "greater_than_equal",
            "input": "0",
            "ctx": {"ge": 1},
        }
    ]
    document = app.openapi()
    responses = document["paths"]["/items/{item_id}"]["get"]["responses"]
    envelope = {"application/vnd.error+json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}
    assert responses["422"]["content"] == envelope
    assert responses["404"]["content"] == envelope
    assert "Envelope" in document["components"]["schemas"]
    assert "ProblemDetails" not in document["components"]["schemas"]


def test_the_default_problem_never_shows_the_input() -> None:
    wrong = TestClient(build()).get("/items/1?limit=-5")
    assert wrong.json()["errors"] == [
        {
            "loc": ["query", "limit"],
            "msg": "Input should be greater than or equal to 1",
            "type": "greater_than_equal",
        }
    ]


def test_validation_errors_attributes_for_handlers() -> None:
    app = build()
    seen: list[Any] = []

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        seen.append(exc.errors())  # callable, as FastAPI's method
        return JSONResponse({"count": len(exc.errors)}, status_code=400)

    response = TestClient(app).post("/items", json={"name": "a"})
    assert response.status_code == 400
    assert response.json() == {"count": 1}
    assert seen == [
        [
            {
                "loc": ("body", "price"),
                "msg": "Field required",
                "type": "missing",
                "input": {"name": "a"},
            }
        ]
    ]


def test_the_app_error_format_can_be_replaced_later() -> None:
    app = build()
    app.error_format = simple
    assert TestClient(app).get("/items/0").json() == {"error": "No such item.", "code": 404}
    assert app.openapi()["components"]["schemas"]["Error"]["type"] == "object"


# -- the database battery's errors ---------------------------------------------------------------
TAGS = MetaData()
tags = Table(
    "tag", TAGS, Column("id", Integer, primary_key=True), Column("name", String(20), unique=True)
)


@pytest.fixture
def tag_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url, metadata=TAGS)
    database.create_all()
    try:
        yield database
    finally:
        database.drop_all()
        database.close()


def test_a_conflict_is_an_http_exception_a_status_handler_sees(tag_database: Database) -> None:
    app = App(database=tag_database)
    caught: list[HTTPException] = []

    @app.post("/tags")
    def add(db: Session) -> None:
        db.execute(insert(tags).values(name="a"))

    @app.exception_handler(409)
    def conflict(request: Request, exc: HTTPException) -> Response:
        caught.append(exc)
        return JSONResponse({"taken": exc.detail}, status_code=409)

    with TestClient(app) as client:
        assert client.post("/tags").status_code == 200
        response = client.post("/tags")
    assert response.status_code == 409
    assert response.json()["taken"].startswith("Another row already has this")
    assert isinstance(caught[0], ConflictError)
    assert caught[0].info.kind == "unique"


def test_a_conflict_in_the_app_format(tag_database: Database) -> None:
    app = App(database=tag_database, error_format=simple)

    @app.post("/tags")
    def add(db: Session) -> None:
        db.execute(insert(tags).values(name="a"))

    with TestClient(app) as client:
        client.post("/tags")
        response = client.post("/tags")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == 409
    assert body["error"].startswith("Another row already has this")


def test_csrf_refusal_uses_the_format() -> None:
    app = App(sessions=True, secret_key=KEY, error_format=simple)

    @app.get("/form")
    def form(request: Request) -> dict[str, bool]:
        request.session["seen"] = True
        return {"ok": True}

    @app.post("/comment")
    def comment() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        client.get("/form")
        response = client.post("/comment")
    assert response.status_code == 403
    assert response.json()["code"] == 403
