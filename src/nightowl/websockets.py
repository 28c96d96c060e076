"""WebSocket connections."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Any

from pydantic_core import from_json

from nightowl.exceptions import WebSocketDisconnect, WebSocketException
from nightowl.requests import HTTPConnection
from nightowl.responses import dump_json
from nightowl.types import Message, Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketException", "WebSocketState"]


class WebSocketState(enum.Enum):
    """Where one side of the connection is."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocket(HTTPConnection):
    """A WebSocket connection; take it as a parameter of an ``@app.websocket`` handler.

    ::

        @app.websocket("/echo")
        async def echo(ws: WebSocket):
            await ws.accept()
            async for text in ws.iter_text():
                await ws.send_text(text)
    """

    __slots__ = ("_send", "application_state", "client_state")

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, path_params: dict[str, Any] | None = None
    ) -> None:
        super().__init__(scope, receive, path_params)
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive_message(self) -> Message:
        """The next raw ASGI message from the client."""
        if self.client_state is WebSocketState.CONNECTING:
            message = await self.receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f"Expected websocket.connect, got {message['type']!r}.")
            self.client_state = WebSocketState.CONNECTED
            return message
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive once the client has disconnected.")
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        return message

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message."""
        if self.application_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot send once the connection is closed.")
        if message["type"] in ("websocket.close", "websocket.http.response.start"):
            self.application_state = WebSocketState.DISCONNECTED
        elif message["type"] == "websocket.accept":
            self.application_state = WebSocketState.CONNECTED
        await self._send(message)

    async def accept(
        self, subprotocol: str | None = None, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Accept the connection (after reading the client's connect message)."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive_message()
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers or []}
        )

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def _receive_data(self) -> Message:
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Call "accept" first.')
        message = await self.receive_message()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        """The next text frame."""
        message = await self._receive_data()
        text = message.get("text")
        if text is None:
            raise WebSocketDisconnect(1003, "Expected a text frame.")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next binary frame."""
        message = await self._receive_data()
        data = message.get("bytes")
        if data is None:
            raise WebSocketDisconnect(1003, "Expected a binary frame.")
        return bytes(data)

    async def receive_json(self) -> Any:
        """The next frame, parsed as JSON."""
        message = await self._receive_data()
        data = message.get("text") if message.get("text") is not None else message.get("bytes")
        return from_json(data or b"")

    async def send_text(self, data: str) -> None:
        """Send a text frame."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text frame."""
        await self.send({"type": "websocket.send", "text": dump_json(data).decode()})

    async def iter_text(self) -> AsyncIterator[str]:
        """Text frames until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary frames until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return
