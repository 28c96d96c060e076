"""The admin's time-limited cache of what it reads about a table."""

from __future__ import annotations

import asyncio

from nightowl.admin._ttl import TTLCache


class Owner:
    """Stands in for a model admin."""


class Maker:
    """Makes the values 1, 2, 3... and remembers for which keys."""

    def __init__(self) -> None:
        self.made: list[object] = []

    def __call__(self, key: object) -> object:
        self.made.append(key)
        return len(self.made)


def test_a_value_is_reused_while_fresh_per_owner_and_key() -> None:
    cache: TTLCache[str, object] = TTLCache("_test_values")
    maker = Maker()

    async def get(owner: Owner, key: str, seconds: float) -> object:
        async def make() -> object:
            return maker(key)

        return await cache.get(owner, key, seconds, make)

    async def run() -> list[object]:
        first, second = Owner(), Owner()
        return [
            await get(first, "a", 60),
            await get(first, "a", 60),  # fresh: reused
            await get(first, "b", 60),  # another key
            await get(second, "a", 60),  # another owner
            await get(first, "a", 0),  # too old: made again
        ]

    assert asyncio.run(run()) == [1, 1, 2, 3, 4]
    assert maker.made == ["a", "b", "a", "a"]


def test_a_full_cache_starts_again() -> None:
    cache: TTLCache[int, object] = TTLCache("_test_values", size=2)
    maker = Maker()
    owner = Owner()

    async def run() -> None:
        for key in (1, 2, 3, 1, 3):  # the third empties it: 1 is made again, 3 is kept

            async def make(key: int = key) -> object:
                return maker(key)

            await cache.get(owner, key, 60, make)

    asyncio.run(run())
    assert maker.made == [1, 2, 3, 1]
