"""Direct writes: under nightowl's uvicorn protocol, ``channels.forward`` has the fan-out
write each message's frame straight to the connections; clients see the same frames, in
the same order, as through the ASGI ``send``, on real uvicorn servers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nightowl import App, WebSocket
from nightowl.channels import Channels
from nightowl.channels._frames import EXTENSION, text_frame
from nightowl.types import ASGIApp, Message, Receive, Scope, Send
from tests.live import live_server

websockets_client = pytest.importorskip("websockets.sync.client")
frames = pytest.importorskip("websockets.frames")
websockets_exceptions = pytest.importorskip("websockets.exceptions")

BROADCAST = "nightowl._ws_protocol:BroadcastWebSocketProtocol"
RESYNC = '{"type":"resync"}'


def relay_app(**channel_options: Any) -> tuple[ASGIApp, list[str]]:
    """An app forwarding the channel ``room`` to ``/ws``, publishing ``count`` messages on
    ``POST /publish/{count}``; and the texts its ASGI ``send`` carried to WebSockets."""
    app = App(channels={"backend": "memory://", **channel_options}, sessions=False)

    @app.websocket("/ws")
    async def relay(websocket: WebSocket, channels: Channels) -> None:
        await channels.forward(websocket, "room", welcome={"type": "ready"})

    @app.post("/publish/{count}", status_code=204)
    async def publish(count: int, channels: Channels, size: int = 8, pause: float = 0) -> None:
        for n in range(count):
            await channels.publish("room", {"n": n, "pad": "x" * size})
            if pause:
                await asyncio.sleep(pause)

    @app.websocket("/both")
    async def both(websocket: WebSocket, channels: Channels) -> None:
        await channels.forward(websocket, "room", "other", welcome={"type": "ready"})

    @app.post("/publish-mixed/{count}", status_code=204)
    async def publish_mixed(count: int, channels: Channels) -> None:
        for n in range(count):  # in one turn of the loop: fanned out together
            await channels.publish("room" if n % 3 else "other", {"n": n})

    @app.get("/subscribers")
    async def subscribers(channels: Channels) -> int:
        return channels.subscriber_count

    @app.websocket("/extension")
    async def extension(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"offered": EXTENSION in websocket.scope.get("extensions", {})})
        await websocket.close()

    sent: list[str] = []

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        async def counted(message: Message) -> None:
            if message["type"] == "websocket.send":
                sent.append(message.get("text") or "")
            await send(message)

        await app(scope, receive, counted)

    return counting, sent


def numbers(texts: list[str]) -> list[int | None]:
    """The ``n`` of each message received; ``None`` for a resync frame."""
    return [None if text == RESYNC else json.loads(text)["n"] for text in texts]


def connect(
    stack: contextlib.ExitStack,
    url: str,
    *,
    compression: str | None = None,
    max_queue: int = 16,
    path: str = "/ws",
) -> Any:
    """A WebSocket client on ``url`` (closed with ``stack``) that has received the welcome."""
    connection = websockets_client.connect(
        url.replace("http", "ws", 1) + path,
        compression=compression,
        max_queue=max_queue,
        max_size=None,
        open_timeout=10,
    )
    ws = stack.enter_context(connection)
    assert ws.recv(timeout=10) == '{"type":"ready"}'
    return ws


def receive_all(ws: Any, last: int) -> list[str]:
    """What ``ws`` receives until message ``last`` (or the connection closes)."""
    received: list[str] = []
    try:
        while True:
            text = ws.recv(timeout=20)
            received.append(text)
            if text != RESYNC and numbers([text])[0] == last:
                return received
    except websockets_exceptions.ConnectionClosed:
        return received


def offered(url: str, compression: str | None) -> bool:
    with websockets_client.connect(
        url.replace("http", "ws", 1) + "/extension", compression=compression
    ) as ws:
        return bool(json.loads(ws.recv(timeout=10))["offered"])


SETUPS: dict[str, tuple[dict[str, Any], str | None, dict[str, Any], bool]] = {
    # name: (uvicorn options, client compression, Channels options, direct writes?)
    "nightowl-protocol": ({"ws": BROADCAST}, None, {}, True),
    "compressed": ({"ws": BROADCAST, "ws_per_message_deflate": True}, "deflate", {}, False),
    "plain-uvicorn": ({"ws": "websockets-sansio"}, None, {}, False),
    "turned-off": ({"ws": BROADCAST}, None, {"direct_writes": False}, False),
}


@pytest.mark.slow
@pytest.mark.parametrize("setup", SETUPS)
def test_every_client_gets_every_message_in_order(setup: str) -> None:
    options, compression, channel_options, direct = SETUPS[setup]
    app, sent = relay_app(**channel_options)
    with live_server(app, **options) as url:
        assert offered(url, compression) is (setup in ("nightowl-protocol", "turned-off"))
        with contextlib.ExitStack() as stack:
            clients = [connect(stack, url, compression=compression) for _ in range(3)]
            for _ in range(2):  # a burst at a time: 300 messages, then 300 more
                response = httpx.post(f"{url}/publish/300", timeout=20)
                assert response.status_code == 204
            for ws in clients:
                assert numbers(receive_all(ws, 299)) == list(range(300))
                assert numbers(receive_all(ws, 299)) == list(range(300))
    # Direct writes skip the ASGI send: it carried the welcomes only, none of the messages.
    assert sent.count('{"type":"ready"}') == 3
    assert len([text for text in sent if '"n":' in text]) == (0 if direct else 3 * 600)


@pytest.mark.slow
def test_clients_that_leave_end_their_subscriptions() -> None:
    app, _ = relay_app()
    with live_server(app, ws=BROADCAST) as url:
        with contextlib.ExitStack() as stack:
            clients = [connect(stack, url) for _ in range(3)]
            assert httpx.get(f"{url}/subscribers").json() == 3
            clients[0].close()
            assert httpx.post(f"{url}/publish/5", timeout=20).status_code == 204
            assert numbers(receive_all(clients[1], 4)) == list(range(5))
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/subscribers").json() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"{url}/subscribers").json() == 0
        assert httpx.post(f"{url}/publish/5", timeout=20).status_code == 204


@pytest.mark.slow
@pytest.mark.parametrize("protocol", [BROADCAST, "websockets-sansio"])
def test_messages_of_several_channels_arriving_together_keep_their_order(protocol: str) -> None:
    app, _ = relay_app()
    with live_server(app, ws=protocol) as url, contextlib.ExitStack() as stack:
        room = connect(stack, url)
        both = connect(stack, url, path="/both")
        assert httpx.post(f"{url}/publish-mixed/300", timeout=20).status_code == 204
        assert numbers(receive_all(both, 299)) == list(range(300))
        assert numbers(receive_all(room, 299)) == [n for n in range(300) if n % 3]


def assert_resynced(received: list[int | None]) -> None:
    """``received`` lost messages, said so with a resync before every gap, and ends
    with the last message."""
    assert None in received
    numbered = [n for n in received if n is not None]
    assert len(numbered) < 300
    assert numbered == sorted(numbered) and numbered[-1] == 299
    for before, after in itertools.pairwise(received):
        if before is not None and after is not None:
            assert after == before + 1


@pytest.mark.slow
def test_a_burst_larger_than_the_queue_in_one_turn_still_meets_the_policy() -> None:
    # 300 messages of 128 KiB published in one turn of the loop reach the connection
    # in writes of at most max_queue messages: once its buffer is full, the rest goes
    # through the queue, whose policy drops the oldest.
    app, _ = relay_app(max_queue=4)
    with live_server(app, ws=BROADCAST) as url, contextlib.ExitStack() as stack:
        ws = connect(stack, url, max_queue=1)
        response = httpx.post(f"{url}/publish/300", params={"size": 128 * 1024}, timeout=60)
        assert response.status_code == 204
        assert_resynced(numbers(receive_all(ws, 299)))


@contextlib.contextmanager
def slow_and_fast(policy: str) -> Iterator[tuple[list[int | None], list[int | None]]]:
    """Publish 300 messages of 128 KiB to a client that stops reading and to one that
    keeps up; then read what the slow one gets."""
    app, _ = relay_app(max_queue=4, on_full=policy)
    with live_server(app, ws=BROADCAST) as url, contextlib.ExitStack() as stack:
        slow = connect(stack, url, max_queue=1)  # its reader stops once a frame waits
        fast = connect(stack, url)
        got_fast: list[str] = []
        reader = threading.Thread(target=lambda: got_fast.extend(receive_all(fast, 299)))
        reader.start()
        try:
            response = httpx.post(
                f"{url}/publish/300", params={"size": 128 * 1024, "pause": 0.002}, timeout=60
            )
            assert response.status_code == 204
            reader.join(60)
            yield numbers(receive_all(slow, 299)), numbers(got_fast)
        finally:
            reader.join(60)


@pytest.mark.slow
def test_a_slow_client_loses_the_oldest_and_gets_a_resync() -> None:
    with slow_and_fast("drop_oldest") as (slow, fast):
        assert fast == list(range(300))  # publishing never waited for the slow one
        assert_resynced(slow)


@pytest.mark.slow
def test_a_slow_client_is_disconnected_under_that_policy() -> None:
    with slow_and_fast("disconnect") as (slow, fast):
        assert fast == list(range(300))
        assert None not in slow
        assert slow == list(range(len(slow))) and len(slow) < 300


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_text_frame_is_what_websockets_sends(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    expected = frames.Frame(frames.Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    assert text_frame(text) == expected
