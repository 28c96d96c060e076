"""Forward a subscription to a WebSocket until the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from nightowl.channels._message import Message
from nightowl.exceptions import WebSocketDisconnect
from nightowl.responses import dump_json
from nightowl.websockets import WebSocket

__all__ = ["RESYNC_FRAME", "forward_to_websocket"]

#: The frame a WebSocket client gets when it may have missed messages.
RESYNC_FRAME = '{"type":"resync"}'

OnReceive = Callable[[Any], Awaitable[None]]


class Feed(Protocol):
    """What is forwarded: a :class:`~nightowl.channels.Subscription` (a protocol here,
    so that this module and the one that defines it need not import each other)."""

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    def batches(self) -> AsyncIterator[list[Message]]: ...


async def forward_to_websocket(
    websocket: WebSocket,
    subscription: Feed,
    *,
    welcome: Any = None,
    on_receive: OnReceive | None = None,
) -> None:
    """Send each message as a text frame (its JSON as published; a resync signal as
    ``{"type":"resync"}``) until the client disconnects; accept the WebSocket first if
    the handler has not. ``welcome``, when given, is sent as JSON once the subscription is
    live; frames from the client go to ``on_receive`` (their parsed JSON), or are dropped.
    """
    from nightowl.websockets import WebSocketState

    if websocket.application_state is WebSocketState.CONNECTING:
        await websocket.accept()
    async with subscription:
        if welcome is not None:
            await websocket.send_text(dump_json(welcome).decode())
        sender = asyncio.ensure_future(_send_all(websocket, subscription))
        receiver = asyncio.ensure_future(_receive_all(websocket, on_receive))
        try:
            done, _ = await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.wait((sender, receiver))
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                raise error


async def _send_all(websocket: WebSocket, subscription: Feed) -> None:
    send = websocket.send
    async for batch in subscription.batches():
        for message in batch:
            text = RESYNC_FRAME if message.resync else message.json
            await send({"type": "websocket.send", "text": text})


async def _receive_all(websocket: WebSocket, on_receive: OnReceive | None) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            data = await websocket.receive_json()
            if on_receive is not None:
                await on_receive(data)
