"""Litestar: typed parameters from annotations; ``def`` handlers use ``sync_to_thread=True``.

Without ``sync_to_thread=True`` Litestar would call a ``def`` handler on the event loop
(and warn); with it the handler runs in anyio's worker threads like FastAPI's.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post

from apps.models import Item

NOTES = "def handlers declared sync_to_thread=True: run in anyio's worker threads."


def build(sync: bool) -> Litestar:
    """The benchmark app with ``async def`` handlers, or plain ``def`` ones when ``sync``."""
    if sync:

        @get("/", sync_to_thread=True)
        def hello() -> dict[str, Any]:
            return {"message": "hello world"}

        @get("/users/{user_id:int}", sync_to_thread=True)
        def get_user(user_id: int) -> dict[str, Any]:
            return {"id": user_id}

        @get("/search", sync_to_thread=True)
        def search(q: str, limit: int) -> dict[str, Any]:
            return {"q": q, "limit": limit}

        @post("/items", sync_to_thread=True)
        def create_item(data: Item) -> Item:
            return data

        return Litestar([hello, get_user, search, create_item])

    @get("/")
    async def hello_async() -> dict[str, Any]:
        return {"message": "hello world"}

    @get("/users/{user_id:int}")
    async def get_user_async(user_id: int) -> dict[str, Any]:
        return {"id": user_id}

    @get("/search")
    async def search_async(q: str, limit: int) -> dict[str, Any]:
        return {"q": q, "limit": limit}

    @post("/items")
    async def create_item_async(data: Item) -> Item:
        return data

    return Litestar([hello_async, get_user_async, search_async, create_item_async])


app_async = build(sync=False)
app_sync = build(sync=True)
