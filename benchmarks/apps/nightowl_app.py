"""nightowl: typed parameters from annotations; plain ``def`` handlers run in its thread pool."""

from __future__ import annotations

from typing import Any

from apps.models import Item
from nightowl import App

NOTES = "def handlers run in nightowl's thread pool (never on the event loop)."


def build(sync: bool) -> App:
    """The benchmark app with ``async def`` handlers, or plain ``def`` ones when ``sync``."""
    app = App()
    if sync:

        @app.get("/")
        def hello() -> dict[str, Any]:
            return {"message": "hello world"}

        @app.get("/users/{user_id}")
        def get_user(user_id: int) -> dict[str, Any]:
            return {"id": user_id}

        @app.get("/search")
        def search(q: str, limit: int) -> dict[str, Any]:
            return {"q": q, "limit": limit}

        @app.post("/items", status_code=201)
        def create_item(item: Item) -> Item:
            return item

    else:

        @app.get("/")
        async def hello_async() -> dict[str, Any]:
            return {"message": "hello world"}

        @app.get("/users/{user_id}")
        async def get_user_async(user_id: int) -> dict[str, Any]:
            return {"id": user_id}

        @app.get("/search")
        async def search_async(q: str, limit: int) -> dict[str, Any]:
            return {"q": q, "limit": limit}

        @app.post("/items", status_code=201)
        async def create_item_async(item: Item) -> Item:
            return item

    return app


app_async = build(sync=False)
app_sync = build(sync=True)
