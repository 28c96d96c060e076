"""One way to send: the JSON fast path, HEAD, and errors answered in one place."""

from collections.abc import Iterator
from typing import Annotated

import pytest

from nightowl import App, Depends, HTTPException, JSONResponse, Request, Response
from nightowl.testing import TestClient
from nightowl.types import ASGIApp, Receive, Scope, Send


def _dependency() -> Iterator[str]:
    yield "value"


@pytest.mark.parametrize("planned", [False, True], ids=["direct", "planned"])
def test_head_gets_the_headers_of_get_and_no_body(app: App, planned: bool) -> None:
    def with_dependency(value: Annotated[str, Depends(_dependency)]) -> dict[str, str]:
        return {"name": "hedwig", "from": value}

    def alone() -> dict[str, str]:
        return {"name": "hedwig", "from": "value"}

    app.add_route("/owl", with_dependency if planned else alone)
    client = TestClient(app)
    got = client.get("/owl")
    head = client.head("/owl")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))


def test_a_placeholder_response_still_shapes_a_json_result(app: App) -> None:
    @app.get("/owl")
    def owl(response: Response, value: Annotated[str, Depends(_dependency)]) -> dict[str, str]:
        response.headers["X-Owl"] = "hoot"
        response.status_code = 203
        return {"value": value}

    got = TestClient(app).get("/owl")
    assert (got.status_code, got.headers["x-owl"], got.json()) == (203, "hoot", {"value": "value"})


class Moult(Exception):
    """Raised by the handlers below."""


@pytest.mark.parametrize("where", ["direct", "planned", "middleware"])
def test_every_error_goes_through_the_apps_handlers(app: App, where: str) -> None:
    @app.exception_handler(Moult)
    def moult(request: Request, exc: Moult) -> Response:
        return JSONResponse({"handled": str(exc)}, status_code=418)

    @app.get("/direct")
    def direct() -> None:
        raise Moult("direct")

    @app.get("/planned")
    def planned(value: Annotated[str, Depends(_dependency)]) -> None:
        raise Moult("planned")

    path = f"/{where}"
    if where == "middleware":
        path = "/direct"

        def failing_middleware(inner: ASGIApp) -> ASGIApp:
            async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
                raise Moult("middleware")

            return middleware

        app.add_middleware(failing_middleware)
    got = TestClient(app).get(path)
    assert (got.status_code, got.json()) == (418, {"handled": where})


def test_http_errors_of_both_runners_are_the_same_problem(app: App) -> None:
    @app.get("/direct")
    def direct() -> None:
        raise HTTPException(404, "no such owl")

    @app.get("/planned")
    def planned(value: Annotated[str, Depends(_dependency)]) -> None:
        raise HTTPException(404, "no such owl")

    client = TestClient(app)
    direct_problem, planned_problem = client.get("/direct"), client.get("/planned")
    direct_body, planned_body = direct_problem.json(), planned_problem.json()
    assert direct_body.pop("request_id") != planned_body.pop("request_id")
    assert direct_body == planned_body
    assert direct_problem.headers["content-type"] == "application/problem+json"
    assert planned_problem.headers["content-type"] == "application/problem+json"
