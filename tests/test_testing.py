"""The test client: app exceptions raised in the test, the 500 on request, its User-Agent."""

import asyncio

import pytest

from nightowl import App, HTTPException, Request
from nightowl.testing import AsyncTestClient, TestClient


class Boom(Exception):
    pass


def _app() -> App:
    app = App()

    @app.get("/boom")
    def boom() -> None:
        raise Boom("in the handler")

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(418)

    @app.get("/agent")
    def agent(request: Request) -> str:
        return str(request.headers.get("user-agent", ""))

    return app


def test_app_exceptions_are_raised_in_the_test_by_default() -> None:
    client = TestClient(_app())
    with pytest.raises(Boom, match="in the handler"):
        client.get("/boom")
    assert client.get("/teapot").status_code == 418  # HTTP errors are answers, not crashes


def test_raise_server_exceptions_false_gives_the_500() -> None:
    response = TestClient(_app(), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


def test_async_client_raises_too() -> None:
    async def run() -> int:
        async with AsyncTestClient(_app()) as client:
            with pytest.raises(Boom):
                await client.get("/boom")
        async with AsyncTestClient(_app(), raise_server_exceptions=False) as client:
            return (await client.get("/boom")).status_code

    assert asyncio.run(run()) == 500


def test_exceptions_in_middleware_and_in_other_asgi_apps_are_raised() -> None:
    app = _app()

    def broken(inner: object) -> object:
        async def middleware(scope: object, receive: object, send: object) -> None:
            raise Boom("in the middleware")

        return middleware

    app.add_middleware(broken)  # type: ignore[arg-type]
    with pytest.raises(Boom, match="in the middleware"):
        TestClient(app).get("/agent")

    async def bare(scope: object, receive: object, send: object) -> None:
        raise Boom("bare")

    with pytest.raises(Boom):
        TestClient(bare).get("/")
    assert TestClient(bare, raise_server_exceptions=False).get("/").status_code == 500


def test_user_agent_is_testclient_unless_given() -> None:
    assert TestClient(_app()).get("/agent").json() == "testclient"
    custom = TestClient(_app(), headers={"User-Agent": "mine/1"})
    assert custom.get("/agent").json() == "mine/1"
    assert TestClient(_app()).get("/agent", headers={"user-agent": "x"}).json() == "x"
