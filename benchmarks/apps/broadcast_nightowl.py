"""Broadcast benchmark, nightowl: ``nightowl.channels`` on Redis, ``channels.forward``.

``sessions=False``: the ``templates/`` folder next to this module (the fortunes apps')
would otherwise turn signed-cookie sessions on, which no peer has here."""

from __future__ import annotations

import os

from nightowl import App, Request, WebSocket
from nightowl.channels import Channels

app = App(channels=os.environ["REDIS_URL"], sessions=False)


@app.websocket("/ws")
async def ws(websocket: WebSocket, channels: Channels) -> None:
    await channels.forward(websocket, "bench", welcome={"type": "ready"})


@app.post("/publish", status_code=204)
async def publish(request: Request, channels: Channels) -> None:
    await channels.publish("bench", await request.json())
