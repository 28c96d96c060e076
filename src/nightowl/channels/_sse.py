"""Server-sent events fed by a channel, resuming from ``Last-Event-ID``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from nightowl.channels._message import Message
from nightowl.sse import EventSourceResponse, ServerSentEvent
from nightowl.types import Receive, Scope, Send

__all__ = ["RESYNC_EVENT", "ChannelEventSource", "subscription_events"]


class _Opening(Protocol):
    async def open(self) -> None: ...

    async def aclose(self) -> None: ...


#: The SSE event a client gets when it may have missed messages: ``event: resync``.
RESYNC_EVENT = "resync"


async def subscription_events(
    subscription: AbstractAsyncContextManager[AsyncIterator[Message]], event: str | None = None
) -> AsyncIterator[ServerSentEvent]:
    """The subscription's messages as server-sent events: the message's JSON as data, its
    id as the event id (which the browser sends back as ``Last-Event-ID``), ``event`` as
    the type; a resync signal becomes an ``event: resync`` (data ``{"resync":true}``,
    since a browser ignores an event without data)."""
    async with subscription as messages:
        async for message in messages:
            if message.resync:
                yield ServerSentEvent('{"resync":true}', event=RESYNC_EVENT)
            else:
                yield ServerSentEvent(message.json, event=event, id=message.id)


class ChannelEventSource(EventSourceResponse):
    """An :class:`~nightowl.sse.EventSourceResponse` whose subscription is live before
    the response starts: a client that has the headers misses no message published
    after that."""

    def __init__(self, subscription: Any, event: str | None, ping: float | None) -> None:
        super().__init__(subscription_events(subscription, event), ping=ping)
        self.subscription: _Opening = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.subscription.open()
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.subscription.aclose()
