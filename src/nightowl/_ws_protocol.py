"""uvicorn's sans-I/O WebSocket protocol, offering the ``nightowl.broadcast`` extension.

On a connection without compression, the scope's ``extensions`` carry a
:class:`FrameWriter` under ``"nightowl.broadcast"``: ``write(frame)`` puts a frame that
the app has built (unmasked, uncompressed) on the connection at once, past the ASGI
``send``, so that a message published to many subscribers is framed once and written to
each of them without an ASGI ``send`` or a task wake-up per connection
(``nightowl.channels`` uses it). It refuses, returning ``False``, whenever the ASGI
``send`` could not write right away either: before the handshake, once a close is sent
or the connection is closing, and while the transport's write buffer is above its high
water mark (``pause_writing``), which is the slow-consumer signal. Everything else is
uvicorn's protocol unchanged; an app that never looks at the extension sees no difference.

``nightowl serve`` and ``nightowl run`` select it (when websockets is installed and the
user names no other ``ws`` protocol). Imported only by uvicorn, by name, when it builds
the protocol.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["EXTENSION", "BroadcastWebSocketProtocol", "FrameWriter"]

#: The scope extension's name (``nightowl.channels`` reads it).
EXTENSION = "nightowl.broadcast"


class FrameWriter:
    """Writes whole frames on one connection, when it can take them now."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: BroadcastWebSocketProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now; ``False`` (and nothing written) when the connection is not
        open for it or its write buffer is full."""
        protocol = self._protocol
        if (
            protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
            or not protocol.writable.is_set()
            or protocol.transport.is_closing()
        ):
            return False
        protocol.transport.write(frame)
        return True


class BroadcastWebSocketProtocol(WebSocketsSansIOProtocol):
    """:class:`WebSocketsSansIOProtocol` whose scope offers a :class:`FrameWriter` when
    the connection negotiated no extension (compression frames each message per
    connection, so a frame built once cannot be shared)."""

    async def run_asgi(self) -> None:
        """Run the app, with the extension in the scope when the connection allows it."""
        if not self.conn.extensions:
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[EXTENSION] = FrameWriter(self)
        await super().run_asgi()
