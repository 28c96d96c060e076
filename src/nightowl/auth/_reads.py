"""Reads on the request path in one round trip each: no ``BEGIN`` or ``ROLLBACK``.

Loading the user of a session or a token is a single ``SELECT``; in a transaction, the
async drivers add a ``BEGIN`` and a ``ROLLBACK``, each a round trip to the server.
:func:`read_session` gives an ``AsyncSession`` on a pooled connection in autocommit mode
instead (the setting is the driver's, made without a round trip, and undone when the
connection returns to the pool). Inside ``Database.test_session()`` it is the test's
session, so tests still see their own uncommitted rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["read_session"]


@asynccontextmanager
async def read_session(database: Any) -> AsyncIterator[AsyncSession]:
    """An ``AsyncSession`` for reads outside any transaction."""
    if database.in_test_session:
        async with database.async_session() as session:
            yield session
        return
    async with database.async_engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        async with AsyncSession(bind=connection, expire_on_commit=False) as session:
            yield session
