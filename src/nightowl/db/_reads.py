"""Reads on the request path in one round trip each: no ``BEGIN`` or ``ROLLBACK``.

A single ``SELECT`` (a session's row, a user, an API key) in a transaction costs the async
drivers a ``BEGIN`` and a ``ROLLBACK`` besides, each a round trip to the server.
:class:`Reader` runs it on a pooled connection in autocommit mode instead (the setting is
the driver's, made without a round trip, and undone when the connection returns to the
pool). Inside ``Database.test_session()`` it reads through the test's session, so tests
still see their own uncommitted rows.

:func:`read_session` is the same for reads that need the ORM (several queries, loading
objects): an ``AsyncSession`` on one such connection, each statement its own round trip.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

__all__ = ["Reader", "read_session"]


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


@asynccontextmanager
async def read_session(database: Any) -> AsyncIterator[AsyncSession]:
    """An ``AsyncSession`` of ``database`` for reads outside any transaction::

        async with read_session(app.state.database) as session:
            posts = (await session.scalars(select(Post).limit(20))).all()

    Each statement runs on its own, in autocommit mode (no ``BEGIN``, no ``ROLLBACK``),
    so the session is for reading only: what it writes is not undone. Inside
    ``database.test_session()`` it is the test's session, which sees the test's rows.
    """
    if database.in_test_session:
        async with database.async_session() as session:
            yield session
        return
    # Bound to the engine's autocommit twin (the same pool), the session checks a
    # connection out with its first query and returns it when it closes, without the
    # extra trips to the driver's greenlet that opening an AsyncConnection first takes.
    async with AsyncSession(bind=_autocommit_engine(database), expire_on_commit=False) as session:
        yield session


#: Each database's async engine and its autocommit twin (sharing its pool), by database.
_AUTOCOMMIT: weakref.WeakKeyDictionary[Any, tuple[AsyncEngine, AsyncEngine]] = (
    weakref.WeakKeyDictionary()
)


def _autocommit_engine(database: Any) -> AsyncEngine:
    engine: AsyncEngine = database.async_engine
    kept = _AUTOCOMMIT.get(database)
    if kept is None or kept[0] is not engine:
        # The app's engine is replaced when its pool is disposed: follow it.
        kept = _AUTOCOMMIT[database] = (
            engine,
            engine.execution_options(isolation_level="AUTOCOMMIT"),
        )
    return kept[1]
