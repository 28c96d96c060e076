"""A bare ASGI function: hand-written routing, stdlib ``json``, pydantic for the body.

The floor any framework is measured against. With ``sync=True`` the handlers are plain
functions run in a ``ThreadPoolExecutor`` via ``loop.run_in_executor`` (the minimum cost
of not blocking the event loop).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ValidationError

from apps.models import Item

NOTES = "def handlers run via loop.run_in_executor on a ThreadPoolExecutor."

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_JSON = b"application/json"
_NOT_FOUND = b'{"detail":"Not Found"}'
_executor = ThreadPoolExecutor(max_workers=40, thread_name_prefix="bare")


def _hello() -> tuple[int, bytes]:
    return 200, json.dumps({"message": "hello world"}).encode()


def _user(raw: str) -> tuple[int, bytes]:
    if not raw.isdigit():
        return 422, b'{"detail":"user_id must be an integer"}'
    return 200, json.dumps({"id": int(raw)}).encode()


def _search(query_string: bytes) -> tuple[int, bytes]:
    q: str | None = None
    limit: str | None = None
    for chunk in query_string.decode("latin-1").split("&"):
        key, _, value = chunk.partition("=")
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        if key == "q":
            q = value
        elif key == "limit":
            limit = value
    if q is None or limit is None or not limit.isdigit():
        return 422, b'{"detail":"q and an integer limit are required"}'
    return 200, json.dumps({"q": q, "limit": int(limit)}).encode()


def _create_item(body: bytes) -> tuple[int, bytes]:
    try:
        item = Item.model_validate_json(body)
    except ValidationError as exc:
        return 422, json.dumps({"detail": exc.errors(include_url=False)}).encode()
    return 201, item.model_dump_json().encode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def build(sync: bool) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The bare ASGI app; ``sync`` runs each handler in a worker thread."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        handler: Callable[..., tuple[int, bytes]] | None = None
        arg: Any = None
        if method == "GET":
            if path == "/":
                handler = _hello
            elif path.startswith("/users/") and path.count("/") == 2:
                handler, arg = _user, path[7:]
            elif path == "/search":
                handler, arg = _search, scope["query_string"]
        elif method == "POST" and path == "/items":
            handler, arg = _create_item, await _read_body(receive)
        if handler is None:
            status, body = 404, _NOT_FOUND
        elif sync:
            loop = asyncio.get_running_loop()
            if arg is None:
                status, body = await loop.run_in_executor(_executor, handler)
            else:
                status, body = await loop.run_in_executor(_executor, handler, arg)
        elif arg is None:
            status, body = handler()
        else:
            status, body = handler(arg)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", _JSON),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


app_async = build(sync=False)
app_sync = build(sync=True)
