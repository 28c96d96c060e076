"""``fastapi.sse``: nightowl's server-sent events."""

from nightowl.sse import EventSourceResponse, ServerSentEvent

__all__ = ["EventSourceResponse", "ServerSentEvent"]
