"""Channels in one process (the memory backend): publish, subscribe, resume, slow consumers,
and the App(channels=...) option, through the test client and directly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

from nightowl import App, Request, WebSocket
from nightowl.channels import Channels, Message, SlowConsumer, channels_of
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.channels.servers import read_events


class Chat(BaseModel):
    user: str
    text: str


def chat_app(**options: Any) -> App:
    app = App(channels=options.pop("channels", True), **options)

    @app.post("/rooms/{room}", status_code=202)
    async def say(room: str, chat: Chat, channels: Channels) -> dict[str, str]:
        return {"id": await channels.publish(f"room:{room}", chat)}

    @app.websocket("/rooms/{room}")
    async def listen(room: str, ws: WebSocket, channels: Channels) -> None:
        await channels.forward(ws, f"room:{room}", welcome={"type": "ready"})

    @app.get("/rooms/{room}/events")
    async def events(room: str, request: Request, channels: Channels) -> Any:
        return channels.event_source(f"room:{room}", request, event="chat")

    return app


def test_a_message_posted_reaches_the_websocket_subscribers() -> None:
    with (
        TestClient(chat_app()) as client,
        client.websocket_connect("/rooms/42") as first,
        client.websocket_connect("/rooms/42") as second,
        client.websocket_connect("/rooms/7") as other,
    ):
        for ws in (first, second, other):
            assert ws.receive_json() == {"type": "ready"}
        response = client.post("/rooms/42", json={"user": "ada", "text": "hello"})
        assert response.status_code == 202
        assert response.json() == {"id": "1"}
        client.post("/rooms/7", json={"user": "bob", "text": "elsewhere"})
        assert first.receive_json() == {"user": "ada", "text": "hello"}
        assert second.receive_json() == {"user": "ada", "text": "hello"}
        assert other.receive_json() == {"user": "bob", "text": "elsewhere"}


def test_an_invalid_message_is_a_422_and_is_not_published() -> None:
    with TestClient(chat_app()) as client:
        response = client.post("/rooms/42", json={"user": "ada"})
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert client.post("/rooms/42", json={"user": "a", "text": "b"}).json() == {"id": "1"}


def test_the_subscription_ends_when_the_client_leaves() -> None:
    app = chat_app()
    with TestClient(app) as client:
        with client.websocket_connect("/rooms/42") as ws:
            assert ws.receive_json() == {"type": "ready"}
            assert channels_of(app).subscriber_count == 1
        assert channels_of(app).subscriber_count == 0


def test_options() -> None:
    with pytest.raises(ImproperlyConfigured, match="Unknown channels backend"):
        App(channels="amqp://localhost")
    with pytest.raises(ImproperlyConfigured, match="Unknown channels options: speed"):
        App(channels={"speed": 3})
    with pytest.raises(ImproperlyConfigured, match="on_full"):
        App(channels={"on_full": "block"})
    with pytest.raises(ImproperlyConfigured, match="has no channels"):
        channels_of(App())
    app = App(channels={"backend": "memory://", "max_queue": 5, "on_full": "disconnect"})
    assert channels_of(app).max_queue == 5
    assert channels_of(app).on_full == "disconnect"


def test_the_environment_chooses_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIGHTOWL_CHANNELS", "redis://127.0.0.1:1/0")
    assert type(channels_of(App(channels=True)).backend).__name__ == "RedisBackend"
    monkeypatch.delenv("NIGHTOWL_CHANNELS")
    assert type(channels_of(App(channels=True)).backend).__name__ == "MemoryBackend"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _next(subscription: Any) -> Message:
    return await asyncio.wait_for(anext(subscription), 5)


def test_resume_after_a_message_id() -> None:
    async def scenario() -> None:
        async with Channels(history_size=3) as channels:
            ids = [await channels.publish("news", {"n": n}) for n in range(5)]
            async with channels.subscribe("news", last_id=ids[2]) as resumed:
                await channels.publish("news", {"n": 5})
                got = [(await _next(resumed)).data for _ in range(3)]
                assert got == [{"n": 3}, {"n": 4}, {"n": 5}]
            # ids[0] left the history (3 kept): the subscriber is told it missed some.
            async with channels.subscribe("news", last_id=ids[0]) as late:
                first = await _next(late)
                assert first.resync and first.data is None
                assert [(await _next(late)).data for _ in range(3)] == [
                    {"n": 3},
                    {"n": 4},
                    {"n": 5},
                ]
            async with channels.subscribe("news", last_id="forged<id>") as forged:
                assert (await _next(forged)).resync

    run(scenario())


def test_a_slow_subscriber_loses_the_oldest_and_gets_a_resync() -> None:
    async def scenario() -> None:
        async with Channels(max_queue=3) as channels, channels.subscribe("ticks") as slow:
            for n in range(6):
                await channels.publish("ticks", n)
            # The three newest stay queued behind the signal: only 0, 1 and 2 are lost.
            received = [await _next(slow) for _ in range(4)]
            assert received[0].resync
            assert [m.data for m in received[1:]] == [3, 4, 5]
            await channels.publish("ticks", 6)
            assert (await _next(slow)).data == 6

    run(scenario())


def test_a_slow_subscriber_is_disconnected_under_that_policy() -> None:
    async def scenario() -> None:
        async with Channels(max_queue=2, on_full="disconnect") as channels:
            async with channels.subscribe("ticks") as slow, channels.subscribe("ticks") as fast:
                for n in range(3):
                    await channels.publish("ticks", n)
                    assert (await _next(fast)).data == n
                assert [(await _next(slow)).data for _ in range(2)] == [0, 1]
                with pytest.raises(SlowConsumer, match="fell 2 messages behind"):
                    await _next(slow)
            assert channels.subscriber_count == 0

    run(scenario())


def test_typed_messages() -> None:
    async def scenario() -> None:
        async with Channels() as channels:
            subscription = channels.subscribe("room")
            await subscription.open()
            await channels.publish("room", Chat(user="ada", text="hi"))
            await channels.publish("room", {"not": "a chat"})
            await channels.publish("room", {"user": "bob", "text": "yo"})
            models = subscription.iter_models(Chat)
            assert await anext(models) == Chat(user="ada", text="hi")
            assert await anext(models) == Chat(user="bob", text="yo")
            await subscription.aclose()

    run(scenario())


def test_subscribe_arguments() -> None:
    channels = Channels()
    with pytest.raises(TypeError, match="at least one channel"):
        channels.subscribe()
    with pytest.raises(TypeError, match="resumes one channel"):
        channels.subscribe("a", "b", last_id="1")
    with pytest.raises(ValueError, match="channel name"):
        channels.subscribe("")


def test_server_sent_events_resume_from_last_event_id() -> None:
    import httpx

    from tests.live import live_server

    with live_server(chat_app()) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream("GET", "/rooms/42/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            for n in range(2):
                client.post("/rooms/42", json={"user": "ada", "text": f"m{n}"})
            first = read_events(lines, 2)
        assert first == [
            {"event": "chat", "id": "1", "data": '{"user":"ada","text":"m0"}'},
            {"event": "chat", "id": "2", "data": '{"user":"ada","text":"m1"}'},
        ]
        # Published while the client was away: the reconnection gets them, none twice.
        for n in range(2, 4):
            client.post("/rooms/42", json={"user": "ada", "text": f"m{n}"})
        headers = {"Last-Event-ID": "2"}
        with client.stream("GET", "/rooms/42/events", headers=headers) as stream:
            lines = stream.iter_lines()
            missed = read_events(lines, 2)
            client.post("/rooms/42", json={"user": "ada", "text": "m4"})
            live = read_events(lines, 1)
        assert [e["id"] for e in missed + live] == ["3", "4", "5"]
        assert live[0]["data"] == '{"user":"ada","text":"m4"}'
        with client.stream("GET", "/rooms/42/events", headers={"Last-Event-ID": "x"}) as stream:
            assert read_events(stream.iter_lines(), 1) == [
                {"event": "resync", "data": '{"resync":true}'}
            ]


def test_batches_drain_what_waits_and_resume_without_duplicates() -> None:
    async def scenario() -> None:
        async with Channels() as channels:
            first = await channels.publish("feed", 1)
            await channels.publish("feed", 2)
            subscription = channels.subscribe("feed", last_id=first)
            await subscription.open()
            for n in (3, 4):
                await channels.publish("feed", n)
            batches = subscription.batches()
            assert [m.data for m in await anext(batches)] == [2]  # from the history
            assert [m.data for m in await anext(batches)] == [3, 4]  # waiting: one batch
            await batches.aclose()
            assert channels.subscriber_count == 0

    run(scenario())
