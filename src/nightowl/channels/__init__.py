"""Channels: publish a message once, and every subscriber in every worker on every host
gets it, from WebSocket handlers, server-sent events, HTTP handlers and tasks.

::

    from nightowl import App, WebSocket
    from nightowl.channels import Channels

    app = App(channels="redis://127.0.0.1:6379/0")   # or memory:// (default), postgresql://

    @app.post("/rooms/{room}")
    async def say(room: str, message: dict, channels: Channels):
        await channels.publish(f"room:{room}", message)

    @app.websocket("/rooms/{room}")
    async def listen(room: str, ws: WebSocket, channels: Channels):
        await ws.accept()
        async for message in channels.subscribe(f"room:{room}"):
            await ws.send_text(message.json)

``App(channels=...)`` takes a URL, ``True`` (the ``NIGHTOWL_CHANNELS`` environment
variable, else memory), a :class:`Channels`, or a dict of :class:`Channels` options with
``backend``. The app connects at startup and disconnects at shutdown; handlers receive
the :class:`Channels` by annotation, and :func:`channels_of` gives it anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nightowl.channels._channels import Channels, Subscription
from nightowl.channels._message import ChannelsUnavailable, Message, SlowConsumer
from nightowl.channels._queue import OverflowPolicy
from nightowl.channels._sse import RESYNC_EVENT
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "RESYNC_EVENT",
    "Channels",
    "ChannelsUnavailable",
    "Message",
    "OverflowPolicy",
    "SlowConsumer",
    "Subscription",
    "channels_of",
    "install",
]

#: The environment variable ``App(channels=True)`` reads the backend URL from.
ENVIRONMENT_VARIABLE = "NIGHTOWL_CHANNELS"

_OPTIONS = {"backend", "direct_writes", "max_queue", "on_full", "history_size"}


def install(app: App, value: Any) -> None:
    """Give ``app`` its channels (the ``App(channels=...)`` option); ``False`` gives none."""
    if value is False or value is None:
        return
    channels = _channels_from(value)
    app.state.channels = channels
    app.provide(Channels, lambda: channels)
    app.on_startup(channels.start)
    app.on_shutdown(channels.close)


def _channels_from(value: Any) -> Channels:
    if isinstance(value, Channels):
        return value
    if value is True:
        return Channels(os.environ.get(ENVIRONMENT_VARIABLE) or "memory://")
    if isinstance(value, str):
        return Channels(value)
    if isinstance(value, Mapping):
        unknown = set(value) - _OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown channels options: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_OPTIONS))})."
            )
        options = dict(value)
        backend = options.pop("backend", None) or os.environ.get(ENVIRONMENT_VARIABLE)
        return Channels(backend or "memory://", **options)
    raise ImproperlyConfigured(
        f"App(channels=...) takes a URL, True, a Channels or a dict of options, not {value!r}."
    )


def channels_of(app: App) -> Channels:
    """The :class:`Channels` of ``app`` (for code that is no handler, such as tasks)."""
    channels = getattr(app.state, "channels", None)
    if not isinstance(channels, Channels):
        raise ImproperlyConfigured(
            "This app has no channels: App(channels=True) (or a redis:// or postgresql:// URL)."
        )
    return channels
