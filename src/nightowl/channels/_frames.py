"""Frame a message once, write it to many connections: the ``nightowl.broadcast`` ASGI
extension, seen from the channels' side.

A server that offers the extension puts an object in the WebSocket scope,
``scope["extensions"]["nightowl.broadcast"]``, with one method, ``write(frame) -> bool``:
write a complete, unmasked server frame on the connection now, past the ASGI ``send``, or
return ``False`` without writing when it cannot (the handshake is not done, the
connection is closing, or its write buffer is full). nightowl's own uvicorn protocol
offers it on connections without compression (:mod:`nightowl._ws_protocol`); any other
server does not, and forwarding then takes the ASGI ``send`` path.

A message published to N subscribers of a process is framed here once, and the fan-out
writes the same bytes to each connection, with no task woken and no ASGI ``send`` per
subscriber.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["EXTENSION", "RESYNC_FRAME", "FrameWriter", "text_frame"]

#: The scope extension's name.
EXTENSION = "nightowl.broadcast"

#: The frame a WebSocket client gets when it may have missed messages.
RESYNC_FRAME = '{"type":"resync"}'


class FrameWriter(Protocol):
    """What a server offers as ``scope["extensions"]["nightowl.broadcast"]``."""

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` (a whole server frame) now; ``False`` when it cannot."""


def text_frame(text: str) -> bytes:
    """``text`` as one unmasked, uncompressed WebSocket text frame (RFC 6455, 5.2)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 65536:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload
