"""Broadcast benchmark, Django Channels with ``channels_redis`` (its standard Redis layer):
a consumer per WebSocket in the group ``bench``; an async view publishes with
``group_send``."""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-secret-key",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    MIDDLEWARE=[],
    ROOT_URLCONF=__name__,
    ASGI_APPLICATION=f"{__name__}.app",
    CHANNEL_LAYERS={
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Room for a whole run per consumer: nothing is dropped for being full.
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "capacity": 5000},
        }
    },
)
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


class BenchConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add("bench", self.channel_name)
        await self.accept()
        await self.send(text_data='{"type":"ready"}')

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("bench", self.channel_name)

    async def bench_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


async def publish(request: HttpRequest) -> HttpResponse:
    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send("bench", {"type": "bench.message", "text": request.body.decode()})
    return HttpResponse(status=204)


urlpatterns = [path("publish", publish)]

app = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": URLRouter([path("ws", BenchConsumer.as_asgi())]),
    }
)
