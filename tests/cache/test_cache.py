"""The cache API on memory and on Redis: values, expiry, counters, the stampede lock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nightowl import App
from nightowl.cache import Cache, MemoryBackend
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.cache.conftest import run


def test_values_come_back_as_they_went_in(cache: Cache) -> None:
    async def scenario() -> None:
        value = {"title": "Owls", "tags": ["birds", "night"], "views": 3, "draft": False}
        await cache.set("article:1", value)
        assert await cache.get("article:1") == value
        assert await cache.get("article:2") is None
        assert await cache.get("article:2", "absent") == "absent"
        assert await cache.delete("article:1") is True
        assert await cache.delete("article:1") is False
        assert await cache.get("article:1") is None

    run(cache, scenario())


def test_entries_expire_after_their_ttl(cache: Cache) -> None:
    async def scenario() -> None:
        await cache.set("short", "soon gone", ttl=0.05)
        await cache.set("forever", "kept", ttl=None)
        await asyncio.sleep(0.15)
        assert await cache.get("short") is None
        assert await cache.get("forever") == "kept"

    run(cache, scenario())


def test_add_stores_only_when_absent(cache: Cache) -> None:
    async def scenario() -> None:
        assert await cache.add("slot", 1) is True
        assert await cache.add("slot", 2) is False
        assert await cache.get("slot") == 1

    run(cache, scenario())


def test_increment_counts_atomically_and_keeps_the_first_expiry(cache: Cache) -> None:
    async def scenario() -> None:
        totals = await asyncio.gather(*(cache.increment("hits", ttl=0.2) for _ in range(50)))
        assert sorted(totals) == list(range(1, 51))
        assert await cache.increment("hits", 10) == 60
        await asyncio.sleep(0.3)
        assert await cache.increment("hits") == 1  # the window ended with the first ttl

    run(cache, scenario())


def test_clear_removes_only_this_caches_keys(cache: Cache) -> None:
    async def scenario() -> None:
        neighbour = Cache(cache.backend, prefix=cache.prefix + "other:")
        await cache.set("a", 1)
        await neighbour.set("b", 2)
        await neighbour.clear()
        assert await cache.get("a") == 1
        assert await neighbour.get("b") is None

    run(cache, scenario())


def test_a_stampede_computes_once(cache: Cache) -> None:
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return {"answer": 42}

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(cache.get_or_set("report", compute) for _ in range(50)))

    assert run(cache, scenario()) == [{"answer": 42}] * 50
    assert calls == 1


def test_a_failed_computation_lets_the_next_caller_compute(cache: Cache) -> None:
    async def fail() -> int:
        raise RuntimeError("the database is down")

    async def succeed() -> int:
        return 7

    async def scenario() -> int:
        with pytest.raises(RuntimeError):
            await cache.get_or_set("flaky", fail)
        return int(await cache.get_or_set("flaky", succeed))

    assert run(cache, scenario()) == 7


def test_only_json_values_are_stored() -> None:
    cache = Cache()

    with pytest.raises(TypeError, match="JSON values only"):
        asyncio.run(cache.set("thing", object()))


def test_the_memory_backend_drops_the_least_recently_used() -> None:
    cache = Cache(MemoryBackend(max_entries=2))

    async def scenario() -> list[object]:
        await cache.set("a", 1)
        await cache.set("b", 2)
        await cache.get("a")
        await cache.set("c", 3)
        return [await cache.get(k) for k in "abc"]

    assert run(cache, scenario()) == [1, None, 3]


def test_the_app_option_injects_the_cache_by_annotation() -> None:
    app = App(cache="memory")

    @app.get("/visits")
    async def visits(cache: Cache) -> dict[str, int]:
        return {"visits": await cache.increment("visits")}

    with TestClient(app) as client:
        assert client.get("/visits").json() == {"visits": 1}
        assert client.get("/visits").json() == {"visits": 2}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("memcached://127.0.0.1", "Unknown cache 'memcached://127.0.0.1'"),
        (42, "App\\(cache=...\\) takes True"),
    ],
)
def test_an_unknown_cache_is_refused(value: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        App(cache=value)
