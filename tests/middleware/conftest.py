"""A raw ASGI caller, for what httpx hides (compressed bytes, chunks, WebSocket frames)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from nightowl.types import ASGIApp, Message

CallASGI = Callable[..., list[Message]]


def _scope(kind: str, path: str, headers: dict[str, str], **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": {},
        "state": {},
    }
    if kind == "http":
        scope["method"] = "GET"
    scope.update(extra)
    return scope


@pytest.fixture
def call_asgi() -> CallASGI:
    """``call_asgi(app, path, headers, type="http", **scope)``: every message the app sent."""

    def call(
        app: ASGIApp,
        path: str = "/",
        headers: dict[str, str] | None = None,
        type: str = "http",
        **extra: Any,
    ) -> list[Message]:
        scope = _scope(type, path, headers or {}, **extra)
        sent: list[Message] = []
        incoming: list[Message] = (
            [{"type": "http.request", "body": b"", "more_body": False}]
            if type == "http"
            else [{"type": "websocket.connect"}]
        )

        async def main() -> None:
            # Like a real client, stay connected until the whole response has arrived.
            done = asyncio.Event()

            async def receive() -> Message:
                if incoming:
                    return incoming.pop(0)
                await done.wait()
                return {"type": f"{'http' if type == 'http' else 'websocket'}.disconnect"}

            async def send(message: Message) -> None:
                sent.append(message)
                if message["type"] == "websocket.close" or (
                    message["type"].endswith("response.body") and not message.get("more_body")
                ):
                    done.set()

            await app(scope, receive, send)

        asyncio.run(main())
        return sent

    return call
