"""The same behaviours through a real uvicorn server on 127.0.0.1, not only in-process."""

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from pydantic import BaseModel

from nightowl import App, Form, Header, HTTPException, StreamingResponse, UploadFile
from nightowl.testing import TestClient
from tests.live import live_client


class Item(BaseModel):
    name: str
    price: float


def build_app() -> App:
    app = App(max_body_size=1024)

    @app.get("/")
    def hello() -> dict[str, str]:
        return {"message": "hello world"}

    @app.get("/users/{user_id}")
    async def user(
        user_id: int, x_api_key: Annotated[str | None, Header()] = None
    ) -> dict[str, Any]:
        return {"id": user_id, "key": x_api_key}

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/form")
    def form(name: Annotated[str, Form()], file: UploadFile) -> dict[str, Any]:
        return {"name": name, "size": len(file.file.read())}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse((f"{i}\n" for i in range(3)), media_type="text/plain")

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("internal detail")

    return app


@pytest.fixture(scope="module", params=["in-process", "uvicorn"])
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    app = build_app()
    if request.param == "in-process":
        # Like the real server: a crash is the client's 500, not an error in the test.
        with TestClient(app, raise_server_exceptions=False) as test_client:
            yield test_client
    else:
        with live_client(app) as real_client:
            yield real_client


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"] == "about:blank"
    return body


def test_success_paths(client: httpx.Client) -> None:
    assert client.get("/").json() == {"message": "hello world"}
    assert client.get("/users/7", headers={"X-API-Key": "k"}).json() == {"id": 7, "key": "k"}
    created = client.post("/items", json={"name": "owl", "price": 3})
    assert (created.status_code, created.json()) == (201, {"name": "owl", "price": 3.0})
    form = client.post("/form", data={"name": "n"}, files={"file": ("f.txt", b"abc")})
    assert form.json() == {"name": "n", "size": 3}
    assert client.get("/stream").text == "0\n1\n2\n"
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""


def test_error_paths(client: httpx.Client) -> None:
    is_problem(client.get("/nowhere"), 404)
    assert is_problem(client.post("/"), 405)["title"] == "Method Not Allowed"
    assert client.post("/").headers["allow"] == "GET, HEAD"
    errors = is_problem(client.get("/users/abc"), 422)["errors"]
    assert errors[0]["loc"] == ["path", "user_id"]
    assert is_problem(client.post("/items", json={"name": "x"}), 422)["errors"][0]["loc"] == [
        "body",
        "price",
    ]
    is_problem(
        client.post("/items", content=b"{nope", headers={"content-type": "application/json"}), 400
    )
    is_problem(client.post("/items", content=b"a=b", headers={"content-type": "text/plain"}), 415)
    is_problem(client.post("/items", json={"name": "x" * 2000, "price": 1}), 413)
    is_problem(
        client.post(
            "/items",
            content=b'{"name":"\xff","price":1}',
            headers={"content-type": "application/json"},
        ),
        400,
    )
    is_problem(client.get("/users/1%zz"), 400)
    is_problem(client.get("/users/%ff"), 400)
    is_problem(client.get("/teapot"), 418)
    crash = is_problem(client.get("/crash"), 500)
    assert "internal detail" not in crash.get("detail", "")


def test_oversized_upload_without_content_length_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b'{"name": "' + b"x" * 200

    response = client.post("/items", content=chunks(), headers={"content-type": "application/json"})
    is_problem(response, 413)
