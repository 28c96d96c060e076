"""The app the multi-process tests serve with uvicorn: a chat room whose messages travel
through the channels backend named by ``NIGHTOWL_CHANNELS``; sessions in the Redis named
by ``SESSIONS_URL``, when set."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel

from nightowl import App, Request, WebSocket
from nightowl.channels import Channels

sessions = os.environ.get("SESSIONS_URL")
options: dict[str, Any] = {}
if sessions:
    options = {"sessions": {"backend": sessions, "csrf": False}}
app = App(channels=True, secret_key="a test secret key of enough length", **options)


class Chat(BaseModel):
    user: str
    text: str


@app.get("/whoami")
def whoami() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": os.environ.get("HOST_NAME", "")}


@app.post("/rooms/{room}", status_code=202)
async def say(room: str, chat: Chat, channels: Channels) -> dict[str, str]:
    return {"id": await channels.publish(f"room:{room}", chat)}


@app.websocket("/rooms/{room}")
async def listen(room: str, ws: WebSocket, channels: Channels) -> None:
    await channels.forward(ws, f"room:{room}", welcome={"type": "ready"})


@app.get("/rooms/{room}/events")
async def events(room: str, request: Request, channels: Channels) -> Any:
    return channels.event_source(f"room:{room}", request, ping=1)


@app.post("/login/{name}")
def login(name: str, request: Request) -> dict[str, str]:
    request.session["user"] = name
    return {"user": name}


@app.get("/me")
def me(request: Request) -> dict[str, Any]:
    return {"user": request.session.get("user"), "host": os.environ.get("HOST_NAME", "")}
