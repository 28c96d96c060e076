"""The Redis and PostgreSQL backends against real servers: two ``Channels`` stand for two
workers; a lost connection comes back, with a resync signal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from nightowl.channels import Channels, Message, Subscription
from tests.channels.servers import OwnRedis, own_redis
from tests.redis_server import REDIS_URL, skip_without_redis


async def next_message(subscription: AsyncIterator[Message], timeout: float = 10) -> Message:
    return await asyncio.wait_for(anext(subscription), timeout)


async def two_workers_exchange(url: str) -> None:
    async with Channels(url, history_size=50) as worker_a, Channels(url) as worker_b:
        async with worker_a.subscribe("room:1") as on_a, worker_b.subscribe("room:1") as on_b:
            first = await worker_b.publish("room:1", {"n": 1, "text": "é"})
            await worker_a.publish("room:2", {"elsewhere": True})
            second = await worker_a.publish("room:1", [2])
            for subscription in (on_a, on_b):
                got = [await next_message(subscription) for _ in range(2)]
                assert [m.data for m in got] == [{"n": 1, "text": "é"}, [2]]
                assert [m.id for m in got] == [first, second]
        # A client that saw ``first`` resumes on the other worker: no loss, nothing twice.
        await worker_b.publish("room:1", 3)
        async with worker_a.subscribe("room:1", last_id=first) as resumed:
            await worker_b.publish("room:1", 4)
            got = [await next_message(resumed) for _ in range(3)]
            assert [m.data for m in got] == [[2], 3, 4]
        async with worker_a.subscribe("room:1", last_id="1-0") as lost:
            assert (await next_message(lost)).resync


@pytest.fixture
def redis_url() -> str:
    """The shared Redis server (never stopped here: tests that stop one use OwnRedis)."""
    skip_without_redis()
    return REDIS_URL


def test_redis_carries_messages_between_workers(redis_url: str) -> None:
    asyncio.run(two_workers_exchange(redis_url))


def test_postgresql_carries_messages_between_workers(postgres_url: str) -> None:
    asyncio.run(two_workers_exchange(postgres_url))


def test_postgresql_carries_messages_too_large_for_notify(postgres_url: str) -> None:
    async def scenario() -> None:
        async with (
            Channels(postgres_url) as worker_a,
            Channels(postgres_url) as worker_b,
            worker_a.subscribe("big") as subscription,
        ):
            await worker_b.publish("big", {"text": "x" * 20000})
            await worker_b.publish("big", {"text": "small"})
            assert (await next_message(subscription)).data == {"text": "x" * 20000}
            assert (await next_message(subscription)).data == {"text": "small"}

    asyncio.run(scenario())


async def survive_an_outage(url: str, cut: Any, publish_during_outage: bool = False) -> None:
    async with Channels(url) as worker_a, Channels(url) as worker_b:
        subscription: Subscription = worker_a.subscribe("news")
        async with subscription:
            await worker_b.publish("news", "before")
            assert (await next_message(subscription)).data == "before"
            await cut()
            signal = await next_message(subscription, timeout=30)
            assert signal.resync and signal.channel == "news"
            for attempt in range(100):  # worker B's own connection may still be coming back
                try:
                    await worker_b.publish("news", "after")
                    break
                except Exception:
                    if attempt == 99:
                        raise
                    await asyncio.sleep(0.1)
            assert (await next_message(subscription)).data == "after"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis(tmp_path) as server:
        yield server


@pytest.mark.slow
def test_redis_restarted_subscribers_resume_and_resync(redis_server: OwnRedis) -> None:
    async def restart() -> None:
        await asyncio.to_thread(redis_server.restart)

    asyncio.run(survive_an_outage(redis_server.url, restart))


def test_postgresql_connection_lost_subscribers_resume_and_resync(postgres_url: str) -> None:
    import asyncpg

    from nightowl.channels.backends.postgres import LISTENER_NAME

    dsn = postgres_url.replace("+psycopg", "")

    async def kill_listeners() -> None:
        connection = await asyncpg.connect(dsn)
        try:
            killed = await connection.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name = $1",
                LISTENER_NAME,
            )
            assert killed >= 1
        finally:
            await connection.close()

    asyncio.run(survive_an_outage(postgres_url, kill_listeners))
