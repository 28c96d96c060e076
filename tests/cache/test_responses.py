"""Cached responses: hits skip the handler, ETags answer 304, a stampede computes once."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from nightowl import App, Request, Response
from nightowl.cache import Cache, MemoryBackend, RedisBackend, cache_response
from nightowl.testing import TestClient
from tests.redis_server import NO_REDIS, REDIS_URL, redis_up


class Article(BaseModel):
    title: str
    views: int


def counting_app(**app_options: Any) -> tuple[App, dict[str, int]]:
    app = App(**app_options)
    calls = {"articles": 0}

    @app.get("/articles")
    @cache_response(60)
    async def articles(limit: int = 10) -> list[Article]:
        calls["articles"] += 1
        return [Article(title="Owls", views=calls["articles"])][:limit]

    return app, calls


def test_a_hit_answers_without_calling_the_handler() -> None:
    app, calls = counting_app()
    with TestClient(app) as client:
        first = client.get("/articles")
        second = client.get("/articles")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() == [{"title": "Owls", "views": 1}]
    assert second.headers["content-type"] == "application/json"
    assert calls["articles"] == 1


def test_each_query_string_is_its_own_entry() -> None:
    app, calls = counting_app()
    with TestClient(app) as client:
        assert client.get("/articles?limit=1").json() == [{"title": "Owls", "views": 1}]
        assert client.get("/articles?limit=0").json() == []
        assert client.get("/articles?limit=1").json() == [{"title": "Owls", "views": 1}]
    assert calls["articles"] == 2


def test_cached_responses_carry_an_etag_and_answer_304() -> None:
    app, _ = counting_app()
    with TestClient(app) as client:
        fresh = client.get("/articles")
        etag = fresh.headers["etag"]
        assert fresh.headers["cache-control"] == "max-age=60"
        again = client.get("/articles", headers={"If-None-Match": etag})
        other = client.get("/articles", headers={"If-None-Match": '"something-else"'})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "content-type" not in again.headers
    assert other.status_code == 200


def test_the_first_response_is_304_too_when_the_client_has_it() -> None:
    app, _ = counting_app()
    with TestClient(app) as client:
        etag = client.get("/articles").headers["etag"]
    app2, calls = counting_app()
    with TestClient(app2) as client:
        answer = client.get("/articles", headers={"If-None-Match": f'W/{etag}, "x"'})
    assert answer.status_code == 304
    assert calls["articles"] == 1


def test_vary_headers_select_different_entries() -> None:
    app = App()

    @app.get("/greeting")
    @cache_response(60, vary=["Accept-Language"])
    async def greeting(request: Request) -> dict[str, str]:
        language = request.headers.get("accept-language", "en")
        return {"text": "bonjour" if language == "fr" else "hello"}

    with TestClient(app) as client:
        assert (
            client.get("/greeting", headers={"Accept-Language": "fr"}).json()["text"] == "bonjour"
        )
        assert client.get("/greeting", headers={"Accept-Language": "en"}).json()["text"] == "hello"
        assert (
            client.get("/greeting", headers={"Accept-Language": "fr"}).json()["text"] == "bonjour"
        )


def test_a_vary_header_set_by_the_handler_is_learned() -> None:
    app = App()
    calls = 0

    @app.get("/page")
    @cache_response(60)
    async def page(request: Request) -> Response:
        nonlocal calls
        calls += 1
        text = f"{request.headers.get('x-theme', 'light')} {calls}"
        return Response(text, headers={"Vary": "X-Theme"}, media_type="text/plain")

    with TestClient(app) as client:
        assert client.get("/page", headers={"X-Theme": "dark"}).text == "dark 1"
        assert client.get("/page", headers={"X-Theme": "light"}).text == "light 2"
        assert client.get("/page", headers={"X-Theme": "dark"}).text == "dark 1"
        assert client.get("/page", headers={"X-Theme": "light"}).text == "light 2"


def test_what_must_not_be_shared_is_not_stored() -> None:
    app = App()
    calls = {"cookie": 0, "private": 0, "error": 0, "auth": 0}

    @app.get("/cookie")
    @cache_response(60)
    async def cookie() -> Response:
        calls["cookie"] += 1
        response = Response("hi")
        response.set_cookie("seen", "1")
        return response

    @app.get("/private")
    @cache_response(60)
    async def private() -> Response:
        calls["private"] += 1
        return Response("mine", headers={"Cache-Control": "private"})

    @app.get("/error")
    @cache_response(60)
    async def error() -> Response:
        calls["error"] += 1
        return Response("not yet", status_code=503)

    @app.get("/auth")
    @cache_response(60)
    async def auth() -> dict[str, int]:
        calls["auth"] += 1
        return {"n": calls["auth"]}

    with TestClient(app) as client:
        for path in ("/cookie", "/private", "/error"):
            client.get(path)
            client.get(path)
        client.get("/auth", headers={"Authorization": "Bearer a"})
        assert client.get("/auth", headers={"Authorization": "Bearer b"}).json() == {"n": 2}
    assert calls == {"cookie": 2, "private": 2, "error": 2, "auth": 2}


def test_a_sync_handler_is_cached_too() -> None:
    app = App()
    calls = 0

    @app.get("/sync/{name}")
    @cache_response(60)
    def sync(name: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"name": name, "calls": calls}

    with TestClient(app) as client:
        assert client.get("/sync/owl").json() == {"name": "owl", "calls": 1}
        assert client.get("/sync/owl").json() == {"name": "owl", "calls": 1}
        assert client.get("/sync/bat").json() == {"name": "bat", "calls": 2}


def test_entries_expire() -> None:
    app = App()
    calls = 0

    @app.get("/now")
    @cache_response(0.1)
    async def now() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"calls": calls}

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = (await client.get("/now")).json()["calls"]
            await asyncio.sleep(0.2)
            return [first, (await client.get("/now")).json()["calls"]]

    assert asyncio.run(scenario()) == [1, 2]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_fifty_concurrent_misses_run_the_handler_once(backend: str) -> None:
    if backend == "redis" and not redis_up():
        pytest.skip(NO_REDIS)
    store = MemoryBackend() if backend == "memory" else RedisBackend(REDIS_URL)
    cache = Cache(store, prefix=f"nightowl-test:{secrets.token_hex(4)}:")
    app = App(cache=cache)
    calls = 0

    @app.get("/report")
    @cache_response(60)
    async def report() -> dict[str, str]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.2)
        return {"report": "expensive"}

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await asyncio.gather(*(client.get("/report") for _ in range(50)))
        finally:
            await cache.clear()
            await cache.close()

    answers = asyncio.run(scenario())
    assert {a.status_code for a in answers} == {200}
    assert {a.text for a in answers} == {'{"report":"expensive"}'}
    assert calls == 1


def test_cache_response_needs_a_positive_ttl() -> None:
    with pytest.raises(ValueError, match="ttl above 0"):
        cache_response(0)
