"""Parameters: query, header, cookie, JSON bodies, constraints, aliases, defaults."""

import dataclasses
import enum
from datetime import date
from typing import Annotated, Any, cast

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from nightowl import App, Body, Cookie, Header, Query, Request
from nightowl.testing import TestClient


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def problem(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    return body


def test_query_scalars_defaults_optional(app: App) -> None:
    @app.get("/search")
    def search(
        q: str,
        page: int = 1,
        exact: bool = False,
        since: date | None = None,
        color: Color = Color.RED,
    ) -> dict[str, Any]:
        return {"q": q, "page": page, "exact": exact, "since": since, "color": color}

    client = TestClient(app)
    assert client.get("/search?q=owl").json() == {
        "q": "owl",
        "page": 1,
        "exact": False,
        "since": None,
        "color": "red",
    }
    assert client.get("/search?q=a+b&page=3&exact=true&since=2026-01-02&color=blue").json() == {
        "q": "a b",
        "page": 3,
        "exact": True,
        "since": "2026-01-02",
        "color": "blue",
    }
    body = problem(client.get("/search?page=x&color=green"))
    assert body["status"] == 422
    assert body["detail"] == "3 validation errors"
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("query", "q"),
        ("query", "page"),
        ("query", "color"),
    }
    missing = next(e for e in body["errors"] if e["loc"] == ["query", "q"])
    assert missing == {"loc": ["query", "q"], "msg": "Field required", "type": "missing"}


def test_query_lists(app: App) -> None:
    @app.get("/items")
    def items(id: Annotated[list[int], Query()], tag: list[str] | None = None) -> dict[str, Any]:
        return {"id": id, "tag": tag}

    client = TestClient(app)
    assert client.get("/items?id=1&id=2&tag=a").json() == {"id": [1, 2], "tag": ["a"]}
    assert client.get("/items?id=1").json() == {"id": [1], "tag": None}
    body = problem(client.get("/items?id=1&id=x"))
    assert body["errors"][0]["loc"] == ["query", "id", 1]


def test_query_constraints_and_alias(app: App) -> None:
    @app.get("/page")
    def page(
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        name: Annotated[str | None, Query(min_length=2, max_length=5, alias="n")] = None,
        # The default-style marker; cast because Query() is typed as the marker, not the value.
        sort: str = cast(str, Query("asc", pattern="^(asc|desc)$")),
    ) -> dict[str, Any]:
        return {"limit": limit, "name": name, "sort": sort}

    client = TestClient(app)
    assert client.get("/page").json() == {"limit": 10, "name": None, "sort": "asc"}
    assert client.get("/page?limit=100&n=ab&sort=desc").json() == {
        "limit": 100,
        "name": "ab",
        "sort": "desc",
    }
    body = problem(client.get("/page?limit=0&n=abcdef&sort=up"))
    assert [e["type"] for e in body["errors"]] == [
        "greater_than_equal",
        "string_too_long",
        "string_pattern_mismatch",
    ]
    assert body["errors"][1]["loc"] == ["query", "n"]


def test_pydantic_field_constraints_in_annotated(app: App) -> None:
    @app.get("/n")
    def n(value: Annotated[int, Field(gt=0)]) -> int:
        return value

    client = TestClient(app)
    assert client.get("/n?value=3").json() == 3
    assert client.get("/n?value=0").status_code == 422


def test_headers(app: App) -> None:
    @app.get("/h")
    def h(
        x_api_key: Annotated[str, Header()],
        user_agent: Annotated[str | None, Header()] = None,
        x_count: Annotated[int, Header()] = 0,
        raw: Annotated[str | None, Header(alias="X-Raw_Name", convert_underscores=False)] = None,
        accept: Annotated[list[str] | None, Header()] = None,
    ) -> dict[str, Any]:
        return {
            "key": x_api_key,
            "agent": user_agent,
            "count": x_count,
            "raw": raw,
            "accept": accept,
        }

    client = TestClient(app)
    body = client.get(
        "/h", headers={"X-API-Key": "secret", "X-Count": "3", "x-raw_name": "r", "accept": "a, b"}
    ).json()
    assert body == {
        "key": "secret",
        "agent": "testclient",
        "count": 3,
        "raw": "r",
        "accept": ["a", "b"],
    }
    errors = problem(client.get("/h"))["errors"]
    assert errors == [{"loc": ["header", "x-api-key"], "msg": "Field required", "type": "missing"}]


def test_cookies(app: App) -> None:
    @app.get("/c")
    def c(
        session: Annotated[str, Cookie()], theme: Annotated[str, Cookie()] = "light"
    ) -> dict[str, str]:
        return {"session": session, "theme": theme}

    client = TestClient(app)
    assert client.get("/c", headers={"cookie": "session=abc; theme=dark"}).json() == {
        "session": "abc",
        "theme": "dark",
    }
    assert problem(client.get("/c"))["errors"][0]["loc"] == ["cookie", "session"]


def test_request_parameter(app: App) -> None:
    @app.get("/r/{x}")
    async def r(request: Request, x: str) -> dict[str, Any]:
        return {
            "method": request.method,
            "path": request.path,
            "x": x,
            "q": dict(request.query_params),
        }

    assert TestClient(app).get("/r/1?a=b").json() == {
        "method": "GET",
        "path": "/r/1",
        "x": "1",
        "q": {"a": "b"},
    }


@pytest.mark.parametrize(
    ("annotation", "payload", "expected"),
    [
        (Item, {"name": "owl", "price": 2.5}, {"name": "owl", "price": 2.5, "tags": []}),
        (Point, {"x": 1, "y": 2}, {"x": 1, "y": 2}),
        (Movie, {"title": "Up", "year": 2009}, {"title": "Up", "year": 2009}),
        (list[Item], [{"name": "a", "price": 1}], [{"name": "a", "price": 1.0, "tags": []}]),
    ],
)
def test_json_body_kinds(app: App, annotation: Any, payload: Any, expected: Any) -> None:
    async def create(body):  # type: ignore[no-untyped-def]
        return body

    create.__annotations__ = {"body": annotation}
    app.post("/create", status_code=201)(create)
    response = TestClient(app).post("/create", json=payload)
    assert response.status_code == 201
    assert response.json() == expected


def test_json_body_errors(app: App) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    client = TestClient(app)
    body = problem(client.post("/items", json={"name": "x", "price": -1}))
    assert body["status"] == 422
    assert body["errors"] == [
        {"loc": ["body", "price"], "msg": "Input should be greater than 0", "type": "greater_than"}
    ]
    assert problem(client.post("/items"))["errors"] == [
        {"loc": ["body"], "msg": "Field required", "type": "missing"}
    ]
    bad = problem(
        client.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})
    )
    assert bad["status"] == 400 and bad["detail"].startswith("Malformed JSON body")
    wrong_type = problem(
        client.post(
            "/items",
            content=b"name=x",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    )
    assert wrong_type["status"] == 415
    utf8 = problem(
        client.post(
            "/items",
            content=b'{"name": "\xff\xfe", "price": 1}',
            headers={"content-type": "application/json"},
        )
    )
    assert utf8["status"] == 400
    assert problem(client.post("/items", json=[1, 2]))["status"] == 422


def test_json_vendor_content_type_accepted(app: App) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    response = TestClient(app).post(
        "/items",
        content=b'{"name":"a","price":1}',
        headers={"content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 200


def test_several_body_params_embed_by_name(app: App) -> None:
    @app.put("/orders/{id}")
    def update(
        id: int, item: Item, point: Point, note: Annotated[str, Body()] = ""
    ) -> dict[str, Any]:
        return {"id": id, "item": item.name, "x": point.x, "note": note}

    client = TestClient(app)
    payload = {"item": {"name": "a", "price": 1}, "point": {"x": 1, "y": 2}, "note": "hi"}
    assert client.put("/orders/5", json=payload).json() == {
        "id": 5,
        "item": "a",
        "x": 1,
        "note": "hi",
    }
    errors = problem(client.put("/orders/5", json={"item": {"name": "a", "price": 1}}))["errors"]
    assert errors == [{"loc": ["body", "point"], "msg": "Field required", "type": "missing"}]


def test_body_embed_single(app: App) -> None:
    @app.post("/embed")
    def embed(item: Annotated[Item, Body(embed=True)]) -> str:
        return item.name

    assert TestClient(app).post("/embed", json={"item": {"name": "n", "price": 1}}).json() == "n"


def test_optional_body(app: App) -> None:
    @app.post("/maybe")
    def maybe(item: Item | None = None) -> dict[str, Any]:
        return {"item": item}

    client = TestClient(app)
    assert client.post("/maybe").json() == {"item": None}
    assert client.post("/maybe", json={"name": "a", "price": 1})["item"] if False else True


def test_body_too_large() -> None:
    app = App(max_body_size=100)

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    client = TestClient(app)
    response = client.post("/items", json={"name": "x" * 200, "price": 1})
    body = problem(response)
    assert body["status"] == 413
    assert "100 bytes" in body["detail"]


def test_bad_query_encoding(app: App) -> None:
    @app.get("/q")
    def q(v: str = "") -> str:
        return v

    client = TestClient(app)
    assert client.get("/q?v=%C3%A9").json() == "é"
    assert problem(client.get("/q?v=%zz"))["status"] == 400
    assert problem(client.get("/q?v=%ff"))["status"] == 400


def test_unannotated_parameter_typed_by_its_default(app: App) -> None:
    @app.get("/list")
    def listing(page=1, ratio=0.5, exact=False, name="x"):  # type: ignore[no-untyped-def]
        return {"page": page, "ratio": ratio, "exact": exact, "name": name}

    client = TestClient(app)
    assert client.get("/list?page=2&ratio=1.5&exact=yes&name=y").json() == {
        "page": 2,
        "ratio": 1.5,
        "exact": True,
        "name": "y",
    }
    assert client.get("/list?page=two").status_code == 422


# -- FastAPI's spelling of "required": Query(...) ------------------------------------------
def test_ellipsis_default_means_required_not_ellipsis_value() -> None:
    from nightowl import File, Form, UploadFile

    app = App()

    @app.get("/q")
    def q(q: str = Query(...)) -> str:  # type: ignore[assignment]
        return q

    @app.get("/h")
    def h(x_token: str = Header(...)) -> str:  # type: ignore[assignment]
        return x_token

    @app.get("/c")
    def c(session: str = Cookie(...)) -> str:  # type: ignore[assignment]
        return session

    @app.post("/login")
    def login(username: str = Form(...), password: str = Form(...)) -> str:  # type: ignore[assignment]
        return password

    @app.post("/upload")
    async def upload(file: UploadFile = File(...)) -> str:  # type: ignore[assignment]
        return file.filename or ""

    @app.post("/body")
    def body(item: Item = Body(...)) -> str:  # type: ignore[assignment]
        return item.name

    client = TestClient(app)
    assert problem(client.get("/q"))["errors"][0]["loc"] == ["query", "q"]
    assert problem(client.get("/h"))["errors"][0]["loc"] == ["header", "x-token"]
    assert problem(client.get("/c"))["errors"][0]["loc"] == ["cookie", "session"]
    assert client.post("/login", data={"username": "ada"}).status_code == 422
    assert client.post("/upload", files={"other": ("a.txt", b"x")}).status_code == 422
    assert client.post("/body").status_code == 422
    assert client.get("/q?q=x").json() == "x"
    assert client.get("/h", headers={"X-Token": "t"}).json() == "t"
    assert client.post("/login", data={"username": "a", "password": "p"}).json() == "p"
    assert client.post("/upload", files={"file": ("a.txt", b"x")}).json() == "a.txt"
    assert Query(...).default is not ...


def test_bare_dict_parameter_is_the_json_body_not_the_query() -> None:
    app = App()

    @app.post("/any")
    def any_dict(data: dict) -> dict:  # type: ignore[type-arg]
        return {"got": data}

    @app.post("/typed")
    def typed(scores: dict[str, int]) -> dict[str, int]:
        return scores

    client = TestClient(app)
    assert client.post("/any", json={"a": [1, 2]}).json() == {"got": {"a": [1, 2]}}
    assert client.post("/typed", json={"ada": 3}).json() == {"ada": 3}
    assert problem(client.post("/typed", json={"ada": "x"}))["errors"][0]["loc"] == [
        "body",
        "ada",
    ]
