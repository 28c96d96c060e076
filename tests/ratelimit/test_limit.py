"""Rate limits through a real server: per route, as a dependency, per router, app-wide;
keyed by client, user or API key; 429 problems with Retry-After and RateLimit-* headers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pytest

from nightowl import App, Depends, Request, Router
from nightowl.exceptions import ImproperlyConfigured
from nightowl.ratelimit import RateLimit, by_api_key, by_user
from nightowl.testing import TestClient
from tests.live import live_client
from tests.redis_server import NEEDS_REDIS, REDIS_URL

NO_PROXY_HEADERS = {"proxy_headers": False}


def test_a_route_limit_answers_429_with_retry_after() -> None:
    app = App()

    @app.get("/search", rate_limit="3/minute")
    def search() -> dict[str, bool]:
        return {"ok": True}

    with live_client(app) as client:
        answers = [client.get("/search") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert 0 < int(answers[0].headers["ratelimit-reset"]) <= 60
    refused = answers[3]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    body = refused.json()
    assert (body["status"], body["title"]) == (429, "Too Many Requests")
    assert "3/minute" in body["detail"]


def test_each_route_and_each_client_counts_apart() -> None:
    app = App(trusted_proxies=["127.0.0.1"])

    @app.get("/a", rate_limit="1/minute")
    def a() -> None: ...

    @app.get("/b", rate_limit="1/minute")
    def b() -> None: ...

    with live_client(app, **NO_PROXY_HEADERS) as client:
        assert client.get("/a").status_code == 200
        assert client.get("/b").status_code == 200
        assert client.get("/a").status_code == 429
        other = {"X-Forwarded-For": "203.0.113.8"}  # another client behind the proxy
        assert client.get("/a", headers=other).status_code == 200


def test_the_dependency_form_keyed_by_api_key() -> None:
    app = App()

    @app.post("/reports", dependencies=[RateLimit("2/minute", key=by_api_key)])
    def report() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/annotated")
    def annotated(_: Annotated[None, RateLimit("1/minute", scope="annotated")]) -> None: ...

    with live_client(app) as client:
        first = {"X-API-Key": "key-one"}
        assert [client.post("/reports", headers=first).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        second = {"Authorization": "Bearer key-two"}
        assert client.post("/reports", headers=second).status_code == 200
        assert [client.get("/annotated").status_code for _ in range(2)] == [200, 429]


def test_a_router_limit_is_shared_by_its_routes() -> None:
    app = App()
    api = Router(prefix="/api", dependencies=[RateLimit("2/minute", scope="api")])

    @api.get("/one")
    def one() -> None: ...

    @api.get("/two")
    def two() -> None: ...

    @app.get("/free")
    def free() -> None: ...

    app.include(api)
    with live_client(app) as client:
        statuses = [client.get(path).status_code for path in ("/api/one", "/api/two", "/api/one")]
        assert statuses == [200, 200, 429]
        assert client.get("/free").status_code == 200


def test_an_app_wide_budget_covers_every_route() -> None:
    app = App(rate_limit="2/minute")

    @app.get("/x")
    def x() -> None: ...

    @app.get("/y", rate_limit="100/minute")
    def y() -> None: ...

    with live_client(app) as client:
        assert [client.get(p).status_code for p in ("/x", "/y", "/x")] == [200, 200, 429]


def test_keyed_by_user() -> None:
    app = App()

    class User:
        def __init__(self, pk: int) -> None:
            self.pk = pk

    def load_user(request: Request) -> None:
        user = request.headers.get("x-user")
        request.scope["user"] = User(int(user)) if user else None

    @app.get("/me", dependencies=[Depends(load_user), RateLimit("1/minute", key=by_user)])
    def me() -> None: ...

    with live_client(app) as client:
        assert client.get("/me", headers={"X-User": "1"}).status_code == 200
        assert client.get("/me", headers={"X-User": "1"}).status_code == 429
        assert client.get("/me", headers={"X-User": "2"}).status_code == 200
        assert client.get("/me").status_code == 200  # anonymous: counted by address


async def _tenant(request: Request) -> str:
    tenant: str = request.headers.get("x-tenant", "none")
    return "tenant:" + tenant


def test_an_async_key_of_your_own() -> None:
    app = App()

    @app.get("/t", dependencies=[RateLimit("1/minute", key=_tenant)])
    def t() -> None: ...

    with live_client(app) as client:
        assert client.get("/t", headers={"X-Tenant": "a"}).status_code == 200
        assert client.get("/t", headers={"X-Tenant": "a"}).status_code == 429
        assert client.get("/t", headers={"X-Tenant": "b"}).status_code == 200


def test_the_429_is_in_the_openapi_document() -> None:
    app = App()

    @app.get("/search", rate_limit="10/minute")
    def search() -> None: ...

    @app.get("/plain")
    def plain() -> None: ...

    document = TestClient(app).get("/openapi.json").json()
    limited = document["paths"]["/search"]["get"]["responses"]
    assert "429" in limited
    assert "Retry-After" in limited["429"]["headers"]
    assert "application/problem+json" in limited["429"]["content"]
    assert "429" not in document["paths"]["/plain"]["get"]["responses"]


@pytest.mark.parametrize("limit", ["lots", "10/fortnight", ""])
def test_a_malformed_limit_is_refused_when_declared(limit: str) -> None:
    app = App()
    with pytest.raises(ImproperlyConfigured, match="not a rate limit"):
        app.get("/x", rate_limit=limit)(lambda: None)


@pytest.mark.parametrize("storage", ["redis", "nowhere://x", 5])
def test_a_malformed_storage_is_refused(storage: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="rate_limit_storage"):
        App(rate_limit_storage=storage)


def test_an_unreachable_store_fails_closed_with_503() -> None:
    app = App(rate_limit_storage="redis://127.0.0.1:9/0")

    @app.get("/x", rate_limit="5/minute")
    def x() -> None: ...

    with live_client(app) as client:
        response = client.get("/x")
    assert response.status_code == 503
    assert "rate limit store" in response.json()["detail"]


@NEEDS_REDIS
def test_redis_counts_for_two_apps_as_one() -> None:
    # Two apps stand for two workers: one count in Redis.
    apps = [App(rate_limit_storage=REDIS_URL) for _ in range(2)]
    scope = uuid.uuid4().hex
    for app in apps:

        @app.get("/x", dependencies=[RateLimit("3/minute", scope=scope)])
        def x() -> None: ...

    with live_client(apps[0]) as one, live_client(apps[1]) as two:
        statuses = [c.get("/x").status_code for c in (one, two, one, two)]
    assert statuses == [200, 200, 200, 429]
