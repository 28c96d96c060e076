"""Broadcast benchmark, Starlette with the ``broadcaster`` package (Redis pub/sub).

broadcaster 0.3.1's Redis listener stops for good when it starts before the first
SUBSCRIBE has completed (redis-py's ``listen()`` returns at once while nothing is
subscribed), which is what happens on the first subscription. The app works around it
as a user would: it keeps one subscription to ``bench`` open for its whole life and wakes
the listener once that subscription is live.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

broadcast = Broadcast(os.environ["REDIS_URL"])


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    async with broadcast.subscribe("bench") as subscriber:
        await websocket.send_text('{"type":"ready"}')
        async for event in subscriber:  # type: ignore[union-attr]
            if event is None:
                break
            await websocket.send_text(event.message)


async def publish(request: Request) -> Response:
    await broadcast.publish("bench", (await request.body()).decode())
    return Response(status_code=204)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    await broadcast.connect()
    async with broadcast.subscribe("bench"):
        broadcast._backend._ready.set()  # type: ignore[attr-defined]
        yield
    await broadcast.disconnect()


app = Starlette(
    routes=[WebSocketRoute("/ws", ws), Route("/publish", publish, methods=["POST"])],
    lifespan=lifespan,
)
