"""Function middleware: ``dispatch(request, call_next)`` around the rest of the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nightowl import App, Request, StreamingResponse
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware import FunctionMiddleware
from nightowl.middleware.functions import CallNext
from nightowl.responses import PlainTextResponse, Response
from nightowl.testing import TestClient


async def numbers() -> AsyncIterator[str]:
    for n in range(3):
        yield f"{n}\n"


def make_app() -> App:
    app = App()

    @app.get("/items")
    def items() -> dict[str, int]:
        return {"count": 2}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, str]:
        return {"body": (await request.body()).decode()}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    @app.get("/cookies")
    def cookies() -> Response:
        response = PlainTextResponse("ok")
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    return app


async def add_header(request: Request, call_next: CallNext) -> Response:
    response = await call_next(request)
    response.headers["X-Seen"] = request.method
    return response


async def read_body_first(request: Request, call_next: CallNext) -> Response:
    body = await request.body()
    response = await call_next(request)
    response.headers["X-Body-Length"] = str(len(body))
    return response


async def gate(request: Request, call_next: CallNext) -> Response:
    if request.headers.get("x-token") != "ok":
        return PlainTextResponse("no", status_code=403)
    return await call_next(request)


def test_a_header_added_after_the_handler() -> None:
    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=add_header)
    client = TestClient(app)
    response = client.get("/items")
    assert response.json() == {"count": 2}
    assert response.headers["x-seen"] == "GET"
    assert client.get("/nowhere").headers["x-seen"] == "GET"  # the app's own 404 too
    cookies = client.get("/cookies").headers.get_list("set-cookie")
    assert [cookie.split(";")[0] for cookie in cookies] == ["a=1", "b=2"]


def test_a_body_read_by_the_function_still_reaches_the_handler() -> None:
    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=read_body_first)
    response = TestClient(app).post("/echo", content=b"hello")
    assert response.json() == {"body": "hello"}
    assert response.headers["x-body-length"] == "5"


def test_the_function_may_answer_without_the_app() -> None:
    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=gate)
    client = TestClient(app)
    assert client.get("/items").status_code == 403
    assert client.get("/items", headers={"X-Token": "ok"}).json() == {"count": 2}


def test_a_streamed_body_passes_through() -> None:
    app = make_app()
    app.add_middleware(FunctionMiddleware, dispatch=add_header)
    response = TestClient(app).get("/stream")
    assert response.text == "0\n1\n2\n"
    assert response.headers["x-seen"] == "GET"


def test_the_app_decorator() -> None:
    app = make_app()

    @app.middleware("http")
    async def timing(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["X-Process-Time"] = "0.1"
        return response

    assert TestClient(app).get("/items").headers["x-process-time"] == "0.1"


def test_only_http_function_middleware() -> None:
    with pytest.raises(ImproperlyConfigured, match='takes "http" only'):
        make_app().middleware("websocket")
