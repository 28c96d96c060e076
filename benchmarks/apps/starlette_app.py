"""Starlette: routing from Starlette, validation by hand with pydantic inside each handler.

Starlette runs ``def`` endpoints in anyio's worker threads. A ``def`` endpoint cannot
``await request.body()``, so the sync ``POST /items`` endpoint reads the body on the loop
and validates and answers in a worker thread (``run_in_threadpool``).
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apps.models import Item

NOTES = "def endpoints run in anyio's worker threads; the body is read on the loop first."


class SearchParams(BaseModel):
    """The query parameters of ``GET /search``."""

    q: str
    limit: int


def _invalid(exc: ValidationError) -> JSONResponse:
    return JSONResponse({"detail": exc.errors(include_url=False)}, status_code=422)


def _hello(request: Request) -> JSONResponse:
    return JSONResponse({"message": "hello world"})


def _get_user(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["user_id"]})


def _search(request: Request) -> JSONResponse:
    try:
        params = SearchParams.model_validate(request.query_params)
    except ValidationError as exc:
        return _invalid(exc)
    return JSONResponse({"q": params.q, "limit": params.limit})


def _create_item(body: bytes) -> Response:
    try:
        item = Item.model_validate_json(body)
    except ValidationError as exc:
        return _invalid(exc)
    return Response(item.model_dump_json(), status_code=201, media_type="application/json")


def build(sync: bool) -> Starlette:
    """The benchmark app with ``async def`` handlers, or plain ``def`` ones when ``sync``."""
    if sync:

        async def create_item_sync(request: Request) -> Response:
            body = await request.body()
            return await run_in_threadpool(_create_item, body)

        routes = [
            Route("/", _hello),
            Route("/users/{user_id:int}", _get_user),
            Route("/search", _search),
            Route("/items", create_item_sync, methods=["POST"]),
        ]
        return Starlette(routes=routes)

    async def hello(request: Request) -> JSONResponse:
        return _hello(request)

    async def get_user(request: Request) -> JSONResponse:
        return _get_user(request)

    async def search(request: Request) -> JSONResponse:
        return _search(request)

    async def create_item(request: Request) -> Response:
        return _create_item(await request.body())

    routes = [
        Route("/", hello),
        Route("/users/{user_id:int}", get_user),
        Route("/search", search),
        Route("/items", create_item, methods=["POST"]),
    ]
    return Starlette(routes=routes)


app_async = build(sync=False)
app_sync = build(sync=True)
