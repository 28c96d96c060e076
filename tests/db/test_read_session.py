"""Reads outside any transaction (``nightowl.db.read_session`` beside ``Reader``): they see
what is committed, each statement on its own, and the test's own rows inside
``Database.test_session()``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, text

from nightowl.db import Database, Reader, read_session
from tests.db.models import Member


def _add_member(database: Database, name: str) -> None:
    with database.session() as session:
        session.add(Member(email=f"{name}@example.com", name=name))
        session.commit()


def test_read_session_reads_committed_rows_with_the_orm(database: Database) -> None:
    _add_member(database, "ada")

    async def scenario() -> tuple[list[str], str | None, Sequence[Any] | None]:
        try:
            async with read_session(database) as session:
                names = list(await session.scalars(select(Member.name)))
                member = await session.scalar(select(Member).where(Member.name == "ada"))
            row = await Reader(database).first(select(Member.email), {})
            return names, member.email if member else None, row
        finally:
            await database.dispose_async()

    names, email, row = asyncio.run(scenario())
    assert names == ["ada"]
    assert email == "ada@example.com"  # still readable: the session does not expire it
    assert row is not None and tuple(row) == ("ada@example.com",)


def test_each_statement_runs_on_its_own(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("now() is the transaction's start on PostgreSQL only")
    moment = text("SELECT now()")

    async def scenario() -> tuple[bool, bool]:
        try:
            async with read_session(database) as session:
                first = await session.scalar(moment)
                await session.execute(text("SELECT pg_sleep(0.01)"))
                outside = first != await session.scalar(moment)
            async with database.async_session() as session:  # an ordinary session
                first = await session.scalar(moment)
                await session.execute(text("SELECT pg_sleep(0.01)"))
                inside = first != await session.scalar(moment)
            return outside, inside
        finally:
            await database.dispose_async()

    outside, inside = asyncio.run(scenario())
    assert outside  # no transaction around the statements: each has its own now()
    assert not inside


def test_reads_see_the_tests_own_rows_inside_test_session(database: Database) -> None:
    async def count() -> int:
        async with read_session(database) as session:
            found = await session.scalar(select(func.count()).select_from(Member))
        row = await Reader(database).first(select(func.count()).select_from(Member), {})
        assert row is not None and row[0] == found
        return int(found or 0)

    with database.test_session() as session:
        session.add(Member(email="tmp@example.com", name="tmp"))
        session.flush()
        assert asyncio.run(count()) == 1
    assert asyncio.run(count()) == 0  # rolled back with the test
    asyncio.run(database.dispose_async())
