"""Every built-in middleware: non-HTTP scopes pass untouched, and the app still starts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import nightowl.middleware
from nightowl import App
from nightowl.middleware import (
    CORSMiddleware,
    FunctionMiddleware,
    GZipMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from nightowl.middleware.functions import CallNext
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.testing import TestClient
from nightowl.types import Message, Scope


async def call_next_only(request: Request, call_next: CallNext) -> Response:
    return await call_next(request)


MIDDLEWARE: list[tuple[Callable[..., Any], dict[str, Any]]] = [
    (FunctionMiddleware, {"dispatch": call_next_only}),
    (CORSMiddleware, {"allow_origins": ["https://a.example"]}),
    (GZipMiddleware, {"minimum_size": 0}),
    (SecurityHeadersMiddleware, {"hsts": True}),
    (TrustedHostMiddleware, {"allowed_hosts": ["*"]}),
]


def test_public_names() -> None:
    assert nightowl.middleware.__all__ == sorted(nightowl.middleware.__all__)
    assert set(nightowl.middleware.__all__) == {
        "CORSMiddleware",
        "FunctionMiddleware",
        "GZipMiddleware",
        "HTTPSRedirectMiddleware",
        "SecurityHeadersMiddleware",
        "TrustedHostMiddleware",
    }
    for name in nightowl.middleware.__all__:
        assert getattr(nightowl.middleware, name).__doc__


@pytest.mark.parametrize(("middleware", "options"), MIDDLEWARE)
@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
def test_other_scopes_pass_through_untouched(
    middleware: Callable[..., Any], options: dict[str, Any], kind: str
) -> None:
    calls: list[tuple[Scope, Any, Any]] = []

    async def inner(scope: Scope, receive: Any, send: Any) -> None:
        calls.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": f"{kind}.connect"}

    async def send(message: Message) -> None:
        raise AssertionError("the middleware must not send anything itself")

    scope = {"type": kind, "path": "/", "headers": [(b"origin", b"https://b.example")]}
    asyncio.run(middleware(inner, **options)(scope, receive, send))
    assert len(calls) == 1
    assert calls[0][0] is scope
    assert calls[0][0] == {
        "type": kind,
        "path": "/",
        "headers": [(b"origin", b"https://b.example")],
    }
    assert calls[0][1] is receive
    assert calls[0][2] is send


def test_all_together_with_startup() -> None:
    app = App()
    started: list[bool] = []

    @app.on_startup
    def start() -> None:
        started.append(True)

    @app.get("/")
    def home() -> dict[str, str]:
        return {"text": "hello " * 200}

    for middleware, options in MIDDLEWARE:
        app.add_middleware(middleware, **options)
    with TestClient(app) as client:
        response = client.get(
            "/", headers={"Origin": "https://a.example", "Accept-Encoding": "gzip"}
        )
    assert started == [True]
    assert response.json() == {"text": "hello " * 200}
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "https://a.example"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["vary"] == "Origin, Accept-Encoding"  # CORS is the inner layer
