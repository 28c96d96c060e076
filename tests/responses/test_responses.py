"""Responses: serialisation, tuples, response classes, models filtering output, cookies."""

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from nightowl import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    redirect,
)
from nightowl.testing import TestClient
from tests.live import live_client


class UserIn(BaseModel):
    email: str
    password: str


class UserOut(BaseModel):
    email: str


class UserInDB(UserOut):
    password_hash: str


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_json_serialises_common_types(app: App) -> None:
    moment = dt.datetime(2026, 11, 24, 12, 30, tzinfo=dt.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.get("/")
    def index() -> Any:
        return {
            "when": moment,
            "day": moment.date(),
            "id": ident,
            "price": Decimal("9.99"),
            "point": Point(1, 2),
            "user": UserOut(email="a@b.c"),
            "tags": {"x"},
            "list": [1, None],
        }

    assert TestClient(app).get("/").json() == {
        "when": "2026-11-24T12:30:00Z",
        "day": "2026-11-24",
        "id": str(ident),
        "price": "9.99",
        "point": {"x": 1, "y": 2},
        "user": {"email": "a@b.c"},
        "tags": ["x"],
        "list": [1, None],
    }


def test_list_and_scalar_results(app: App) -> None:
    app.get("/list")(lambda: [1, 2, 3])
    app.get("/none")(lambda: None)
    client = TestClient(app)
    assert client.get("/list").json() == [1, 2, 3]
    assert client.get("/none").json() is None


def test_flask_style_tuples(app: App) -> None:
    app.post("/a")(lambda: ({"created": True}, 201))
    app.get("/b")(lambda: ({"ok": True}, 202, {"X-Tag": "b"}))
    app.get("/c")(lambda: ("teapot", {"X-Tea": "1"}))
    app.get("/d")(lambda: (PlainTextResponse("hi"), 203))
    client = TestClient(app)
    a = client.post("/a")
    assert (a.status_code, a.json()) == (201, {"created": True})
    b = client.get("/b")
    assert (b.status_code, b.headers["x-tag"]) == (202, "b")
    assert client.get("/c").headers["x-tea"] == "1"
    d = client.get("/d")
    assert (d.status_code, d.text) == (203, "hi")


def test_status_code_on_decorator_and_204(app: App) -> None:
    @app.post("/items", status_code=201)
    def create() -> dict[str, int]:
        return {"id": 1}

    @app.delete("/items/{id}", status_code=204)
    def remove(id: int) -> None:
        return None

    client = TestClient(app)
    assert client.post("/items").status_code == 201
    gone = client.delete("/items/1")
    assert gone.status_code == 204
    assert gone.content == b""
    assert "content-length" not in gone.headers


def test_return_annotation_filters_output(app: App) -> None:
    @app.post("/users", status_code=201)
    async def create_user(user: UserIn) -> UserOut:
        return UserInDB(email=user.email, password_hash="hash!")

    @app.get("/users")
    def list_users() -> list[UserOut]:
        return [{"email": "x@y.z", "password_hash": "leak"}]  # type: ignore[list-item]

    client = TestClient(app)
    created = client.post("/users", json={"email": "a@b.c", "password": "pw"})
    assert created.status_code == 201
    assert created.json() == {"email": "a@b.c"}
    assert client.get("/users").json() == [{"email": "x@y.z"}]


def test_response_model_argument_and_orm_like_objects(app: App) -> None:
    class Row:  # stands in for an ORM object: attributes, not a dict
        def __init__(self) -> None:
            self.email = "orm@x.y"
            self.password_hash = "secret"

    @app.get("/row", response_model=UserOut)
    def row() -> Any:
        return Row()

    @app.get("/raw", response_model=None)
    def raw() -> UserOut:
        return {"email": "e", "extra": 1}  # type: ignore[return-value]

    client = TestClient(app)
    assert client.get("/row").json() == {"email": "orm@x.y"}
    assert client.get("/raw").json() == {"email": "e", "extra": 1}


def test_response_classes(app: App) -> None:
    app.get("/html", response_class=HTMLResponse)(lambda: "<h1>hi</h1>")
    app.get("/text")(lambda: PlainTextResponse("plain", headers={"X-A": "1"}))
    app.get("/json")(lambda: JSONResponse({"a": 1}, status_code=202))
    app.get("/bytes")(lambda: Response(b"\x00\x01", media_type="application/octet-stream"))
    client = TestClient(app)
    html = client.get("/html")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.text == "<h1>hi</h1>"
    text = client.get("/text")
    assert (text.text, text.headers["content-type"], text.headers["x-a"]) == (
        "plain",
        "text/plain; charset=utf-8",
        "1",
    )
    assert client.get("/json").status_code == 202
    assert client.get("/bytes").content == b"\x00\x01"


def test_redirects(app: App) -> None:
    app.get("/old")(lambda: redirect("/new"))
    app.post("/form")(lambda: RedirectResponse("/done", status_code=303))
    app.get("/new")(lambda: "new")
    client = TestClient(app, follow_redirects=False)
    old = client.get("/old")
    assert (old.status_code, old.headers["location"]) == (302, "/new")
    assert client.post("/form").status_code == 303
    assert TestClient(app).get("/old").json() == "new"


def test_cookies_set_and_delete(app: App) -> None:
    @app.get("/set")
    def set_cookie() -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie(
            "session", "a b", max_age=60, httponly=True, secure=True, samesite="strict"
        )
        return response

    @app.get("/del")
    def delete_cookie() -> Response:
        response = Response()
        response.delete_cookie("session")
        return response

    client = TestClient(app)
    header = client.get("/set").headers["set-cookie"]
    assert header.startswith("session=a%20b;")
    for part in ("Max-Age=60", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"):
        assert part in header
    assert "Max-Age=0" in client.get("/del").headers["set-cookie"]


def test_test_client_keeps_cookies(app: App) -> None:
    @app.get("/login")
    def login() -> Response:
        response = JSONResponse("in")
        response.set_cookie("sid", "42")
        return response

    from typing import Annotated

    from nightowl import Cookie

    @app.get("/sid")
    def sid(sid: Annotated[str | None, Cookie()] = None) -> str | None:
        return sid

    client = TestClient(app)
    client.get("/login")
    assert client.get("/sid").json() == "42"


def test_test_client_shows_headers_as_sent(app: App) -> None:
    from nightowl import StreamingResponse

    app.get("/stream")(lambda: StreamingResponse(iter([b"a", b"b"])))
    response = TestClient(app).get("/stream")
    assert response.content == b"ab"
    assert "content-length" not in response.headers  # streamed: the app sent no length


def test_header_injection_through_a_line_break_is_refused_when_the_header_is_set(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.get("/set")
    def set_header(value: str) -> Response:
        response = JSONResponse({"ok": True})
        response.headers["X-Next"] = value
        return response

    @app.get("/init")
    def init_header(value: str) -> Response:
        return JSONResponse({"ok": True}, headers={"X-Next": value})

    @app.get("/tuple")
    def tuple_header(value: str) -> tuple[dict[str, bool], int, dict[str, str]]:
        return {"ok": True}, 200, {"X-Next": value}

    @app.get("/cookie")
    def cookie(value: str) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("k", "v", path=value)
        return response

    forged = "/home\r\nSet-Cookie: admin=1"
    with live_client(app) as client:
        for route in ("/set", "/init", "/tuple", "/cookie"):
            response = client.get(route, params={"value": forged})
            assert response.status_code == 500, route  # a full answer, not an empty reply
            assert response.headers["content-type"] == "application/problem+json"
            assert "admin" not in response.headers.get("set-cookie", "")
            assert client.get(route, params={"value": "/home"}).status_code == 200
    assert any(
        "line break" in record.getMessage() or "line break" in (record.exc_text or "")
        for record in caplog.records
    )
