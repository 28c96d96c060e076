"""The application object: lifespan, state, middleware, the async test client."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nightowl import App, Request
from nightowl.testing import AsyncTestClient, TestClient


def test_startup_and_shutdown_hooks() -> None:
    events: list[str] = []
    app = App()

    @app.on_startup
    async def start() -> None:
        events.append("start")

    @app.on_shutdown
    def stop() -> None:
        events.append("stop")

    @app.get("/")
    def index() -> list[str]:
        return events

    with TestClient(app) as client:
        assert client.get("/").json() == ["start"]
    assert events == ["start", "stop"]


def test_lifespan_context_manager_and_state() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("enter")
        yield {"pool": "the-pool"}
        events.append("exit")

    app = App(lifespan=lifespan)

    @app.get("/")
    def index(request: Request) -> str:
        return str(request.app.state.pool)

    with TestClient(app) as client:
        assert client.get("/").json() == "the-pool"
    assert events == ["enter", "exit"]


def test_failing_startup_raises_in_client() -> None:
    app = App()

    @app.on_startup
    def broken() -> None:
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="no database"), TestClient(app):
        pass


def test_client_without_context_manager_runs_startup() -> None:
    app = App()
    started: list[bool] = []
    app.on_startup(lambda: started.append(True))
    app.get("/")(lambda: len(started))
    client = TestClient(app)
    assert client.get("/").json() == 1
    client.close()


def test_app_state(app: App) -> None:
    app.state.counter = 0

    @app.post("/inc")
    def inc(request: Request) -> int:
        request.app.state.counter += 1
        return int(request.app.state.counter)

    client = TestClient(app)
    client.post("/inc")
    assert client.post("/inc").json() == 2


def test_middleware_order_and_wrapping(app: App) -> None:
    order: list[str] = []

    class Tag:
        def __init__(self, app: Any, name: str) -> None:
            self.app = app
            self.name = name

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            order.append(self.name)

            async def tagged(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message["headers"], (b"x-mw", self.name.encode())]
                await send(message)

            await self.app(scope, receive, tagged)

    app.add_middleware(Tag, name="inner")
    app.add_middleware(Tag, name="outer")
    app.get("/")(lambda: "ok")
    response = TestClient(app).get("/")
    assert order == ["outer", "inner"]
    assert response.headers.get_list("x-mw") == ["inner", "outer"]


def test_error_inside_middleware_is_a_500_problem(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                raise RuntimeError("middleware bug")
            await self.app(scope, receive, send)

    app.add_middleware(Broken)
    app.get("/")(lambda: "ok")
    with caplog.at_level("CRITICAL"):
        response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


def test_async_test_client() -> None:
    app = App()
    events: list[str] = []
    app.on_startup(lambda: events.append("start"))
    app.on_shutdown(lambda: events.append("stop"))

    @app.get("/items/{id}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    async def main() -> None:
        async with AsyncTestClient(app) as client:
            response = await client.get("/items/5")
            assert response.json() == {"id": 5}

    asyncio.run(main())
    assert events == ["start", "stop"]


def test_test_client_serves_any_asgi_app() -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"bare"})

    with TestClient(bare) as client:
        assert client.get("/").text == "bare"


def test_unknown_app_option_is_a_clear_error() -> None:
    from nightowl.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="unknown option 'databse'"):
        App(databse="sqlite://")


def test_root_path_is_the_scope_root_and_requests_come_with_or_without_it() -> None:
    app = App(root_path="/api/v1")

    @app.get("/items")
    def items(request: Request) -> dict[str, str]:
        return {"root": request.scope["root_path"], "path": request.scope["path"]}

    client = TestClient(app)
    expected = {"root": "/api/v1", "path": "/items"}
    assert client.get("/items").json() == expected
    assert client.get("/api/v1/items").json() == expected
    assert app.openapi()["servers"] == [{"url": "/api/v1"}]
    docs = client.get("/docs").text
    assert 'data-openapi-url="/api/v1/openapi.json"' in docs
