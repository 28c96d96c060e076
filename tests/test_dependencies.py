"""Dependency injection: Depends, generators, caching, nesting, overrides, providers."""

import contextvars
import dataclasses
import threading
import types
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Annotated, Any, cast

import pytest

from nightowl import App, BackgroundTasks, Depends, Header, HTTPException, Request, Response, Router
from nightowl.testing import TestClient


def test_sync_and_async_dependencies_nested_and_cached(app: App) -> None:
    calls: list[str] = []

    def settings() -> dict[str, str]:
        calls.append("settings")
        return {"prefix": "Dr."}

    async def token(
        authorization: Annotated[str, Header()], conf: Annotated[dict[str, str], Depends(settings)]
    ) -> str:
        calls.append("token")
        return f"{conf['prefix']} {authorization}"

    @app.get("/me")
    def me(
        who: Annotated[str, Depends(token)],
        conf: Annotated[dict[str, str], Depends(settings)],
        # The default-style marker; cast because Depends() is typed as the marker, not the value.
        again: str = cast(str, Depends(token)),
    ) -> dict[str, Any]:
        return {"who": who, "again": again, "prefix": conf["prefix"]}

    response = TestClient(app).get("/me", headers={"Authorization": "Who"})
    assert response.json() == {"who": "Dr. Who", "again": "Dr. Who", "prefix": "Dr."}
    assert calls == ["settings", "token"]  # each once per request


def test_use_cache_false_runs_again(app: App) -> None:
    counter = {"n": 0}

    def count() -> int:
        counter["n"] += 1
        return counter["n"]

    @app.get("/")
    def index(
        a: int = cast(int, Depends(count)),
        b: int = cast(int, Depends(count, use_cache=False)),
    ) -> list[int]:
        return [a, b]

    assert TestClient(app).get("/").json() == [1, 2]


def test_dependency_errors_are_validation_errors(app: App) -> None:
    def paging(limit: int = 10, offset: int = 0) -> tuple[int, int]:
        return limit, offset

    @app.get("/items")
    def items(page: Annotated[tuple[int, int], Depends(paging)], q: str) -> list[int]:
        return list(page)

    client = TestClient(app)
    assert client.get("/items?q=a&limit=5").json() == [5, 0]
    body = client.get("/items?limit=x").json()
    assert {tuple(e["loc"]) for e in body["errors"]} == {("query", "limit"), ("query", "q")}


def test_dependency_raising_http_exception(app: App) -> None:
    def admin(x_role: Annotated[str, Header()] = "") -> None:
        if x_role != "admin":
            raise HTTPException(403, "admins only", headers={"X-Why": "role"})

    @app.get("/admin", dependencies=[Depends(admin)])
    def panel() -> str:
        return "ok"

    client = TestClient(app)
    denied = client.get("/admin")
    assert denied.status_code == 403
    assert denied.headers["x-why"] == "role"
    assert denied.json()["detail"] == "admins only"
    assert client.get("/admin", headers={"x-role": "admin"}).json() == "ok"


def test_generator_cleanup_after_response_and_on_error(app: App) -> None:
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("open")
        try:
            yield "db"
        except ValueError:
            events.append("rollback")
            raise
        else:
            events.append("commit")
        finally:
            events.append("close")

    async def async_resource() -> AsyncIterator[str]:
        events.append("a-open")
        try:
            yield "cache"
        finally:
            events.append("a-close")

    @app.get("/ok")
    def ok(
        db: Annotated[str, Depends(resource)], cache: Annotated[str, Depends(async_resource)]
    ) -> list[str]:
        events.append("handler")
        return [db, cache]

    @app.get("/fail")
    def fail(db: Annotated[str, Depends(resource)]) -> None:
        raise ValueError("boom")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ok").json() == ["db", "cache"]
    assert events == ["open", "a-open", "handler", "a-close", "commit", "close"]
    events.clear()
    response = client.get("/fail")
    assert response.status_code == 500
    assert events == ["open", "rollback", "close"]


def test_cleanup_runs_after_response_is_sent(app: App) -> None:
    order: list[str] = []

    async def dep() -> AsyncIterator[None]:
        yield
        order.append("cleanup")

    @app.get("/")
    async def index(_: Annotated[None, Depends(dep)]) -> str:
        return "x"

    async def spy(scope, receive, send):  # type: ignore[no-untyped-def]
        async def recording_send(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.body":
                order.append("sent")
            await send(message)

        await app(scope, receive, recording_send)

    TestClient(spy).get("/")
    assert order == ["sent", "cleanup"]


def test_router_and_app_level_dependencies() -> None:
    seen: list[str] = []
    app = App(dependencies=[Depends(lambda: seen.append("app"))])
    router = Router(prefix="/r", dependencies=[Depends(lambda: seen.append("router"))])

    @router.get("/x", dependencies=[Depends(lambda: seen.append("route"))])
    def x() -> str:
        seen.append("handler")
        return "x"

    app.include(router)
    TestClient(app).get("/r/x")
    assert seen == ["app", "router", "route", "handler"]


def test_dependency_overrides(app: App) -> None:
    def current_user(authorization: Annotated[str, Header()]) -> str:
        return authorization

    @app.get("/me")
    def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    client = TestClient(app)
    assert client.get("/me").status_code == 422
    app.dependency_overrides[current_user] = lambda: "fake-user"
    assert client.get("/me").json() == "fake-user"
    app.dependency_overrides.clear()
    assert client.get("/me", headers={"authorization": "real"}).json() == "real"


def test_provide_injects_by_annotation(app: App) -> None:
    class Database:
        def __init__(self) -> None:
            self.closed = False

    created: list[Database] = []

    def open_db() -> Iterator[Database]:
        db = Database()
        created.append(db)
        yield db
        db.closed = True

    app.provide(Database, open_db)

    @app.get("/")
    def index(db: Database, again: Database) -> bool:
        return db is again

    assert TestClient(app).get("/").json() is True
    assert len(created) == 1 and created[0].closed


def test_a_providers_runner_awaits_the_async_handlers_that_take_its_value(app: App) -> None:
    class Clock:
        pass

    running: contextvars.ContextVar[str] = contextvars.ContextVar("running", default="plain")
    handed: list[str] = []

    async def in_the_clocks_context(coroutine: Coroutine[Any, Any, Any]) -> Any:
        handed.append(cast("types.CoroutineType[Any, Any, Any]", coroutine).__qualname__)
        token = running.set("in the runner")
        try:
            return await coroutine
        finally:
            running.reset(token)

    app.provide(Clock, Clock, runner=in_the_clocks_context)

    @app.get("/async")
    async def with_clock(clock: Clock) -> str:
        return running.get()

    @app.get("/sync")
    def sync_with_clock(clock: Clock) -> str:
        return running.get()  # a plain def runs in the thread pool, never in a runner

    @app.get("/without")
    async def without_clock() -> str:
        return running.get()

    client = TestClient(app)
    assert client.get("/async").json() == "in the runner"
    assert client.get("/sync").json() == "plain"
    assert client.get("/without").json() == "plain"
    assert handed == [with_clock.__qualname__]


def test_settings_injected_by_type() -> None:
    class Settings:
        name = "owl"

    app = App(settings=Settings())

    @app.get("/")
    def index(settings: Settings) -> str:
        return settings.name

    assert TestClient(app).get("/").json() == "owl"


def test_background_tasks_run_after_response(app: App) -> None:
    done: list[str] = []

    async def notify(name: str) -> None:
        done.append(f"async {name}")

    @app.post("/signup")
    def signup(tasks: BackgroundTasks) -> str:
        tasks.add_task(done.append, "sync")
        tasks.add_task(notify, name="bob")
        return "ok"

    assert TestClient(app).post("/signup").json() == "ok"
    assert done == ["sync", "async bob"]


def test_response_parameter_sets_cookies_headers_status(app: App) -> None:
    @app.get("/login")
    def login(response: Response) -> dict[str, bool]:
        response.set_cookie("session", "abc", httponly=True)
        response.headers["X-Extra"] = "1"
        response.status_code = 202
        return {"ok": True}

    result = TestClient(app).get("/login")
    assert result.status_code == 202
    assert result.headers["x-extra"] == "1"
    assert "HttpOnly" in result.headers["set-cookie"]
    assert result.json() == {"ok": True}


def test_sync_handlers_do_not_block_the_loop(app: App) -> None:
    loop_thread: list[str] = []

    @app.get("/sync")
    def sync_handler() -> str:
        return threading.current_thread().name

    @app.get("/async")
    async def async_handler(request: Request) -> str:
        loop_thread.append(threading.current_thread().name)
        return threading.current_thread().name

    client = TestClient(app)
    sync_thread = client.get("/sync").json()
    async_thread = client.get("/async").json()
    assert sync_thread != async_thread
    assert sync_thread.startswith("nightowl")


def test_sync_handler_runs_concurrently(app: App) -> None:
    import asyncio
    import time

    from nightowl.testing import AsyncTestClient

    @app.get("/slow")
    def slow() -> str:
        time.sleep(0.3)
        return "done"

    async def main() -> float:
        async with AsyncTestClient(app) as client:
            start = time.perf_counter()
            responses = await asyncio.gather(*(client.get("/slow") for _ in range(5)))
            assert all(r.json() == "done" for r in responses)
            return time.perf_counter() - start

    assert asyncio.run(main()) < 1.2  # five 0.3 s sleeps in parallel, not 1.5 s in a row


def test_bad_signature_is_a_configuration_error(app: App) -> None:
    from nightowl.exceptions import ImproperlyConfigured

    @app.get("/x/{a}")
    def bad(b: Annotated[int, Header(), Depends(lambda: 1)]) -> None: ...

    with pytest.raises(ImproperlyConfigured, match="more than one"):
        TestClient(app).get("/x/1")


def test_after_handler_hook_runs_before_rendering_and_can_fail(app: App) -> None:
    order: list[str] = []

    @dataclasses.dataclass
    class Thing:
        id: int | None = None

    def store(request: Request) -> Iterator[list[Thing]]:
        pending: list[Thing] = []

        async def assign_ids(result: object) -> None:
            order.append(f"after handler {type(result).__name__}")
            if request.query_params.get("fail"):
                raise HTTPException(409, "conflict on flush")
            for number, thing in enumerate(pending, start=1):
                thing.id = number

        async def commit(response: Response) -> None:
            order.append("before response")

        request.after_handler(assign_ids)
        request.before_response(commit)
        yield pending

    @app.post("/things")
    def create(things: Annotated[list[Thing], Depends(store)]) -> Thing:
        order.append("handler")
        thing = Thing()
        things.append(thing)
        return thing  # rendered after the hooks gave it an id

    @app.get("/plain")
    def plain(request: Request) -> dict[str, str]:  # the fast runner runs hooks too
        async def note(result: object) -> None:
            order.append(f"plain {result}")

        request.after_handler(note)
        return {"a": "b"}

    client = TestClient(app)
    assert client.post("/things").json() == {"id": 1}
    assert order == ["handler", "after handler Thing", "before response"]
    order.clear()
    failed = client.post("/things?fail=1")
    assert (failed.status_code, failed.json()["detail"]) == (409, "conflict on flush")
    assert order == ["handler", "after handler Thing"]
    order.clear()
    assert client.get("/plain").json() == {"a": "b"}
    assert order == ["plain {'a': 'b'}"]


def test_before_response_hook_runs_before_sending_and_can_fail(app: App) -> None:
    order: list[str] = []

    def transaction(request: Request) -> Iterator[str]:
        async def commit(response: Response) -> None:
            order.append(f"commit {response.status_code}")
            if request.query_params.get("fail"):
                raise HTTPException(409, "conflict on commit")

        request.before_response(commit)
        try:
            yield "tx"
        finally:
            order.append("close")

    @app.post("/things", status_code=201)
    def create(tx: Annotated[str, Depends(transaction)]) -> str:
        order.append("handler")
        return tx

    client = TestClient(app)
    assert client.post("/things").status_code == 201
    assert order == ["handler", "commit 201", "close"]
    order.clear()
    failed = client.post("/things?fail=1")
    assert failed.status_code == 409
    assert failed.json()["detail"] == "conflict on commit"
    assert order == ["handler", "commit 201", "close"]


# -- FastAPI habits: replaced overrides, yield dependencies that answer errors, scopes ---------
def test_replacing_dependency_overrides_with_a_new_dict_takes_effect(app: App) -> None:
    def real() -> str:
        return "real"

    @app.get("/")
    def read(value: Annotated[str, Depends(real)]) -> str:
        return value

    client = TestClient(app)
    assert client.get("/").json() == "real"
    app.dependency_overrides = {real: lambda: "fake"}
    assert client.get("/").json() == "fake"
    app.dependency_overrides = {}
    assert client.get("/").json() == "real"


class OwnerError(Exception):
    pass


def test_yield_dependency_turns_the_handler_exception_into_a_400(app: App) -> None:
    events: list[str] = []

    def owner_checks() -> Iterator[str]:
        try:
            yield "owner"
        except OwnerError as exc:
            events.append("caught")
            raise HTTPException(400, f"Owner error: {exc}") from exc

    async def async_owner_checks() -> AsyncIterator[str]:
        try:
            yield "owner"
        except OwnerError as exc:
            raise HTTPException(400, f"Async owner error: {exc}") from exc

    @app.get("/items/{item_id}")
    def get_item(item_id: str, owner: Annotated[str, Depends(owner_checks)]) -> str:
        if item_id == "plumbus":
            raise OwnerError("Rick")
        return item_id

    @app.get("/async/{item_id}")
    async def get_async(item_id: str, owner: Annotated[str, Depends(async_owner_checks)]) -> str:
        raise OwnerError("Morty")

    client = TestClient(app)
    response = client.get("/items/plumbus")
    assert response.status_code == 400
    assert response.json()["detail"] == "Owner error: Rick"
    assert events == ["caught"]
    assert client.get("/items/portal").json() == "portal"
    assert client.get("/async/x").json()["detail"] == "Async owner error: Morty"


def test_depends_scope_function_exits_before_the_response_request_after(app: App) -> None:
    events: list[str] = []

    def per_function() -> Iterator[str]:
        yield "f"
        events.append("function exit")

    def per_request() -> Iterator[str]:
        yield "r"
        events.append("request exit")

    def record_response(request: Request) -> None:
        async def before(response: Response) -> None:
            events.append("response")

        request.before_response(before)

    @app.get("/", dependencies=[Depends(record_response)])
    def handler(
        f: Annotated[str, Depends(per_function, scope="function")],
        r: Annotated[str, Depends(per_request, scope="request")],
    ) -> str:
        events.append("handler")
        return f + r

    assert TestClient(app).get("/").json() == "fr"
    assert events == ["handler", "function exit", "response", "request exit"]
    with pytest.raises(ValueError, match="'function' or 'request'"):
        Depends(per_function, scope="session")  # type: ignore[arg-type]


def test_function_scoped_dependency_may_answer_with_an_error(app: App) -> None:
    def checked() -> Iterator[None]:
        yield
        raise HTTPException(409, "Changed meanwhile.")

    @app.get("/")
    def handler(_: Annotated[None, Depends(checked, scope="function")]) -> str:
        return "never sent"

    response = TestClient(app).get("/")
    assert response.status_code == 409
    assert response.json()["detail"] == "Changed meanwhile."


def test_yield_dependency_that_swallows_the_error_is_logged_and_the_error_answered(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caught: list[str] = []

    def careless() -> Iterator[str]:
        try:
            yield "Rick"
        except OwnerError as exc:
            caught.append(str(exc))  # and no raise: the author may believe it is handled

    @app.get("/items/{item_id}")
    def get_item(item_id: str, user: Annotated[str, Depends(careless)]) -> str:
        if item_id == "portal-gun":
            raise OwnerError("too dangerous")
        raise HTTPException(404, "Only a plumbus here.")

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/items/portal-gun").status_code == 500
    assert "careless caught OwnerError and did not raise it again" in caplog.text
    assert caught == ["too dangerous"]
    assert client.get("/items/x").status_code == 404
