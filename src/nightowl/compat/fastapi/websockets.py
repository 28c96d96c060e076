"""``fastapi.websockets``: nightowl's ``WebSocket`` and its exceptions."""

from nightowl.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]
