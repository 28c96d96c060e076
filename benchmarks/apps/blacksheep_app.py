"""BlackSheep: typed parameters from annotations, ``FromJSON`` for the pydantic body.

BlackSheep calls plain ``def`` handlers directly on the event loop (its sync wrapper is
``async def handler(request): return method(*values)``): no thread hop, so a slow
``def`` handler blocks every other request. Each app gets its own ``Router`` (the default
one is process-global). BlackSheep's request/response core is compiled with Cython.
"""

from __future__ import annotations

import logging
from typing import Any

from blacksheep import Application, FromJSON, Response, json
from blacksheep.server.routing import Router

from apps.models import Item

NOTES = "def handlers are called ON the event loop (no thread pool): they block it."


def build(sync: bool) -> Application:
    """The benchmark app with ``async def`` handlers, or plain ``def`` ones when ``sync``."""
    app = Application(router=Router())
    # BlackSheep sets its logger to INFO and logs every 404 through it; silence that, as
    # the other frameworks (and uvicorn with --no-access-log) log nothing per request.
    logging.getLogger("blacksheep.server").setLevel(logging.WARNING)
    router = app.router
    if sync:

        @router.get("/")
        def hello() -> Response:
            return json({"message": "hello world"})

        @router.get("/users/{user_id}")
        def get_user(user_id: int) -> Response:
            return json({"id": user_id})

        @router.get("/search")
        def search(q: str, limit: int) -> Response:
            return json({"q": q, "limit": limit})

        @router.post("/items")
        def create_item(item: FromJSON[Item]) -> Response:
            return json(item.value.model_dump(), status=201)

    else:

        @router.get("/")
        async def hello_async() -> Response:
            return json({"message": "hello world"})

        @router.get("/users/{user_id}")
        async def get_user_async(user_id: int) -> Response:
            return json({"id": user_id})

        @router.get("/search")
        async def search_async(q: str, limit: int) -> Response:
            return json({"q": q, "limit": limit})

        @router.post("/items")
        async def create_item_async(item: FromJSON[Item]) -> Response:
            return json(item.value.model_dump(), status=201)

    return app


async def start(app: Any) -> None:
    """BlackSheep needs ``await app.start()`` before serving; lifespan normally does it."""
    if not app.started:
        await app.start()


app_async = build(sync=False)
app_sync = build(sync=True)
