"""Reads on the request path in one round trip each: no ``BEGIN`` or ``ROLLBACK``.

A single ``SELECT`` (a session's row, a user, an API key) in a transaction costs the async
drivers a ``BEGIN`` and a ``ROLLBACK`` besides, each a round trip to the server.
:class:`Reader` runs it on a pooled connection in autocommit mode instead (the setting is
the driver's, made without a round trip, and undone when the connection returns to the
pool). Inside ``Database.test_session()`` it reads through the test's session, so tests
still see their own uncommitted rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

__all__ = ["Reader"]


class Reader:
    """Runs reads of one database outside any transaction (see the module's docs).

    Args:
        database: the app's :class:`~nightowl.db.Database`.
    """

    def __init__(self, database: Any) -> None:
        self.database = database
        self._engines: tuple[AsyncEngine, AsyncEngine] | None = None

    async def first(self, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
        """The first row ``statement`` (a Core statement) gives with ``values``, or ``None``."""
        database = self.database
        if database.in_test_session:
            async with database.async_session() as session:
                found: Sequence[Any] | None = (await session.execute(statement, values)).first()
                return found
        engine = database.async_engine
        if self._engines is None or self._engines[0] is not engine:
            # The app's engine is replaced when its pool is disposed: follow it.
            self._engines = (engine, engine.execution_options(isolation_level="AUTOCOMMIT"))
        # Checkout, execute and checkin in one trip to the driver's greenlet (what
        # AsyncConnection does in three): a third less CPU for the read.
        row: Sequence[Any] | None = await greenlet_spawn(
            _first, self._engines[1].sync_engine, statement, values
        )
        return row


def _first(engine: Any, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
    with engine.connect() as connection:
        found: Sequence[Any] | None = connection.execute(statement, values).first()
        return found
