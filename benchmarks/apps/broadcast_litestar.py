"""Broadcast benchmark, Litestar's channels plugin with its Redis pub/sub backend."""

from __future__ import annotations

import os

from litestar import Litestar, Request, WebSocket, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

plugin = ChannelsPlugin(
    backend=RedisChannelsPubSubBackend(redis=Redis.from_url(os.environ["REDIS_URL"])),
    channels=["bench"],
)


@websocket("/ws")
async def ws(socket: WebSocket, channels: ChannelsPlugin) -> None:
    await socket.accept()
    async with channels.start_subscription(["bench"]) as subscriber:
        await socket.send_text('{"type":"ready"}')
        async for message in subscriber.iter_events():
            await socket.send_text(message.decode())


@post("/publish", status_code=204)
async def publish(request: Request, channels: ChannelsPlugin) -> None:  # type: ignore[type-arg]
    await channels.wait_published(await request.body(), ["bench"])


app = Litestar([ws, publish], plugins=[plugin])
