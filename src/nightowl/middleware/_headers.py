"""Header helpers shared by the built-in middleware."""

from __future__ import annotations

from nightowl.datastructures import MutableHeaders
from nightowl.types import Message

__all__ = ["add_vary", "response_headers"]


def response_headers(message: Message) -> MutableHeaders:
    """The headers of an ``http.response.start`` message, editable in place.

    ASGI lets an app send header names in any case and as any iterable; the names are
    lowercased into a fresh list (stored back on the message) so that setting or
    deleting a header also replaces a ``Content-Length`` an app spelled in capitals.
    """
    raw = [(bytes(name).lower(), bytes(value)) for name, value in message.get("headers", ())]
    message["headers"] = raw
    return MutableHeaders(raw=raw)


def add_vary(headers: MutableHeaders, field: str) -> None:
    """Add ``field`` to ``Vary`` unless it (or ``*``) is already listed."""
    existing = headers.get("vary")
    if existing:
        listed = {item.strip().lower() for item in existing.split(",")}
        if field.lower() in listed or "*" in listed:
            return
    headers.add_vary_header(field)
