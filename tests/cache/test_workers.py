"""Two real uvicorn processes sharing Redis: one computation for both, one counter."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import free_port
from tests.redis_server import NO_REDIS, REDIS_URL, redis_up

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not redis_up(), reason=NO_REDIS)]

APP = """
import asyncio
import os

from nightowl import App
from nightowl.cache import Cache, RedisBackend, cache_response

app = App(cache=Cache(RedisBackend({url!r}), prefix={prefix!r}))


@app.get("/report")
@cache_response(60)
async def report(cache: Cache) -> dict[str, int]:
    await cache.increment("computed")
    await asyncio.sleep(0.5)
    return {{"pid": os.getpid()}}


@app.get("/computed")
async def computed(cache: Cache) -> dict[str, int]:
    return {{"computed": await cache.get("computed", 0)}}


@app.get("/hit")
async def hit(cache: Cache) -> dict[str, int]:
    return {{"hits": await cache.increment("hits")}}
"""


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[list[str]]:
    prefix = f"nightowl-test:{secrets.token_hex(4)}:"
    (tmp_path / "app.py").write_text(APP.format(url=REDIS_URL, prefix=prefix))
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            _wait_ready(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=15)
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
        client.close()


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url + "/computed", timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer within 20 s")
            time.sleep(0.05)


def test_a_stampede_over_two_workers_computes_once(two_workers: list[str]) -> None:
    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=20) as client:
            requests = [client.get(url + "/report") for url in two_workers for _ in range(20)]
            return await asyncio.gather(*requests)

    answers = asyncio.run(scenario())
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1  # every worker served the same body
    assert httpx.get(two_workers[0] + "/computed").json() == {"computed": 1}
    assert httpx.get(two_workers[1] + "/report").headers["etag"] == answers[0].headers["etag"]


def test_counters_are_shared_by_the_workers(two_workers: list[str]) -> None:
    for url in two_workers * 5:
        httpx.get(url + "/hit")
    assert httpx.get(two_workers[1] + "/hit").json() == {"hits": 11}
