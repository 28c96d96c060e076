"""The cache backends the tests run on: memory always, Redis when it answers."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from nightowl.cache import Cache, MemoryBackend, RedisBackend

T = TypeVar("T")
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    """Whether a Redis server answers on 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


NO_REDIS = "Redis is not reachable on 127.0.0.1:6379"


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    """A cache on each backend, under a prefix of its own (emptied afterwards)."""
    if request.param == "redis" and not redis_up():
        pytest.skip(NO_REDIS)
    backend = MemoryBackend() if request.param == "memory" else RedisBackend(REDIS_URL)
    yield Cache(backend, prefix=f"nightowl-test:{secrets.token_hex(4)}:")


def run(cache: Cache, scenario: Coroutine[Any, Any, T]) -> T:
    """Run ``scenario`` in a new event loop, then empty and close ``cache`` in that loop
    (a Redis connection belongs to the loop that opened it)."""

    async def main() -> T:
        try:
            return await scenario
        finally:
            await cache.clear()
            await cache.close()

    return asyncio.run(main())
