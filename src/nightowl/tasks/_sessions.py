"""Database sessions for tasks: one per run, committed when the task returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from sqlalchemy import orm as sa_orm
from sqlalchemy.ext import asyncio as sa_asyncio

from nightowl.db import AsyncSession, Database, Session

__all__ = ["session_providers"]


def session_providers(database: Database) -> dict[Any, Callable[..., Any]]:
    """Providers of :class:`Session` and :class:`AsyncSession` for tasks: a session per
    run, committed if the task returns, rolled back if it raises, always closed."""

    def session() -> Iterator[Session]:
        with database.session() as db:
            yield db
            db.commit()

    async def async_session() -> AsyncIterator[AsyncSession]:
        async with database.async_session() as db:
            yield db
            await db.commit()

    return {
        Session: session,
        sa_orm.Session: session,
        AsyncSession: async_session,
        sa_asyncio.AsyncSession: async_session,
    }
