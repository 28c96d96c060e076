"""Forward a subscription to a WebSocket until the client leaves.

When the server offers the ``nightowl.broadcast`` extension (see ``_frames``), the
subscription's messages are written to the connection by the fan-out itself, and the
forwarding task only wakes when that cannot be done (the connection's buffer is full):
it then sends what waits in the queue, in order, through the ASGI ``send``, and hands
the connection back to the fan-out once it has caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from nightowl.channels._frames import EXTENSION, RESYNC_FRAME, FrameWriter
from nightowl.channels._message import Message
from nightowl.exceptions import WebSocketDisconnect
from nightowl.responses import dump_json
from nightowl.websockets import WebSocket

__all__ = ["RESYNC_FRAME", "forward_to_websocket"]

OnReceive = Callable[[Any], Awaitable[None]]


class Feed(Protocol):
    """What is forwarded: a :class:`~nightowl.channels.Subscription` (a protocol here,
    so that this module and the one that defines it need not import each other)."""

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    def batches(self) -> AsyncIterator[list[Message]]: ...

    def write_directly(self, writer: FrameWriter) -> None: ...


async def forward_to_websocket(
    websocket: WebSocket,
    subscription: Feed,
    *,
    welcome: Any = None,
    on_receive: OnReceive | None = None,
    direct: bool = True,
) -> None:
    """Send each message as a text frame (its JSON as published; a resync signal as
    ``{"type":"resync"}``) until the client disconnects; accept the WebSocket first if
    the handler has not. ``welcome``, when given, is sent as JSON once the subscription is
    live; frames from the client go to ``on_receive`` (their parsed JSON), or are dropped.
    With ``direct`` and a server offering the ``nightowl.broadcast`` extension, messages
    are written by the fan-out itself.
    """
    from nightowl.websockets import WebSocketState

    if websocket.application_state is WebSocketState.CONNECTING:
        await websocket.accept()
    async with subscription:
        if welcome is not None:
            await websocket.send_text(dump_json(welcome).decode())
        writer = websocket.scope.get("extensions", {}).get(EXTENSION) if direct else None
        if writer is not None:
            subscription.write_directly(writer)
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
