"""A small time-limited cache of what the change list reads from the database about a
model admin's table (a query's plan, the table's size, a list's anchors), kept on the
model admin itself so that it lives and goes with it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Values by owner (a model admin) and key, each reused for ``seconds`` after it was
    made.

    ::

        plans: TTLCache[str, Plan] = TTLCache("_plans", size=256)
        plan = await plans.get(admin, sql, PLAN_SECONDS, explain)

    Args:
        name: the attribute of the owner's ``__dict__`` that holds its values.
        size: at most this many values are kept per owner (all are dropped when a new
            one would exceed it); ``None`` for no limit.
    """

    __slots__ = ("name", "size")

    def __init__(self, name: str, size: int | None = None) -> None:
        self.name = name
        self.size = size

    async def get(self, owner: Any, key: K, seconds: float, make: Callable[[], Awaitable[V]]) -> V:
        """The value of ``key`` for ``owner`` if it was made less than ``seconds`` ago,
        else ``await make()``, kept from the time it was asked for."""
        kept: dict[K, tuple[float, V]] = owner.__dict__.setdefault(self.name, {})
        now = time.monotonic()
        found = kept.get(key)
        if found is not None and now - found[0] < seconds:
            return found[1]
        value = await make()
        if self.size is not None and len(kept) >= self.size:
            kept.clear()
        kept[key] = (now, value)
        return value
