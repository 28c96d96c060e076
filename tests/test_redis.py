"""The batteries' Redis clients: one per event loop, made in one place."""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from typing import Any

import pytest

from nightowl import App, Request
from nightowl._redis import LoopClients, connect
from nightowl.cache import RedisBackend as CacheBackend
from nightowl.exceptions import ImproperlyConfigured
from nightowl.sessions import RedisBackend as SessionBackend
from nightowl.testing import TestClient
from tests.redis_server import NEEDS_REDIS, REDIS_URL

URL = REDIS_URL
KEY = "a-test-secret-key-that-is-long-enough"


@NEEDS_REDIS
def test_each_event_loop_gets_its_own_working_client() -> None:
    clients = LoopClients(URL)
    seen: list[Any] = []

    async def ping_then_close() -> bool:
        seen.append(clients.client)
        assert clients.client is seen[-1]  # the same client for the rest of this loop
        try:
            return bool(await clients.client.ping())
        finally:
            await clients.aclose()

    assert asyncio.run(ping_then_close()) and asyncio.run(ping_then_close())
    assert seen[0] is not seen[1]


@NEEDS_REDIS
def test_two_running_loops_use_their_own_clients_and_close_them_all() -> None:
    name = f"nightowl-test-{uuid.uuid4().hex}"
    clients = LoopClients(URL, client_name=name)
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever)
    thread.start()
    try:

        async def ping() -> Any:
            await clients.client.ping()
            return clients.client

        theirs = asyncio.run_coroutine_threadsafe(ping(), other).result(5)

        async def ours_then_close() -> Any:
            mine = await ping()
            await clients.aclose()  # closes both: theirs on their own loop
            return mine

        assert _connections_named(name) == 1  # theirs; ours is not open yet
        assert asyncio.run(ours_then_close()) is not theirs
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.2), other).result(5)
        assert _connections_named(name) == 0  # both closed, each on its own loop
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(5)
        other.close()


def _connections_named(name: str) -> int:
    async def count() -> int:
        client = connect(URL)
        try:
            listed = await client.client_list()
        finally:
            await client.aclose()
        return sum(1 for entry in listed if entry.get("name") == name)

    return asyncio.run(count())


def test_the_clients_of_closed_loops_are_forgotten() -> None:
    clients = LoopClients(URL)

    async def client() -> Any:
        return clients.client  # made, never connected

    first, second = asyncio.run(client()), asyncio.run(client())
    assert first is not second and list(clients._clients.values()) == [second]


def test_a_given_client_is_used_as_it_is() -> None:
    given = connect(URL)

    async def client() -> Any:
        return LoopClients(URL, client=given).client

    assert asyncio.run(client()) is given


def test_without_the_redis_package_the_message_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImproperlyConfigured, match=r"The Redis cache needs .*nightowl\[redis\]"):
        CacheBackend(URL)
    with pytest.raises(ImproperlyConfigured, match=r"RedisBackend needs .*nightowl\[redis\]"):
        SessionBackend(URL)


def _session_app(prefix: str) -> App:
    app = App(sessions=SessionBackend(URL, prefix=prefix), secret_key=KEY)

    @app.get("/set")
    def set_value(request: Request, value: str) -> dict[str, Any]:
        request.session["value"] = value
        return dict(request.session)

    @app.get("/")
    def show(request: Request) -> dict[str, Any]:
        return dict(request.session)

    return app


@NEEDS_REDIS
def test_redis_sessions_work_from_one_event_loop_after_another() -> None:
    prefix = f"nightowl:test:{uuid.uuid4().hex}:"
    app = _session_app(prefix)
    # Without `with`, the test client runs each request on an event loop of its own.
    client = TestClient(app)
    assert client.get("/set", params={"value": "tea"}).json() == {"value": "tea"}
    assert client.get("/").json() == {"value": "tea"}
    assert client.get("/set", params={"value": "more tea"}).json() == {"value": "more tea"}
    with TestClient(app, cookies=dict(client.cookies)) as again:  # one more loop, its own
        assert again.get("/").json() == {"value": "more tea"}
