"""The cache backends the tests run on: memory always, Redis when it answers."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from nightowl.cache import Cache, MemoryBackend, RedisBackend
from tests.redis_server import REDIS_URL, skip_without_redis

T = TypeVar("T")


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    """A cache on each backend, under a prefix of its own (emptied afterwards)."""
    if request.param == "redis":
        skip_without_redis()
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
