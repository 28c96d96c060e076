"""``Reader``: one-statement reads outside a transaction, the same rows and errors
whichever way the statement is sent (see ``nightowl.db._reads``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import DBAPIError

from nightowl.db import Database
from nightowl.db._reads import Reader
from tests.db.models import Member, Status

BY_ID = select(Member.id, Member.email, Member.name, Member.nickname).where(
    Member.id == bindparam("member_id")
)


@pytest.fixture(params=["sqlite", "postgresql", "asyncpg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite, and PostgreSQL through psycopg and through asyncpg (where a plain statement
    is sent by the driver itself), for the suite's ``database`` fixture."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reads.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    if request.param == "asyncpg":
        url = url.replace("postgresql+psycopg://", "postgresql+asyncpg://")
    return url


def first(database: Database, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
    """``Reader.first`` run on a loop of its own, its engine closed after."""

    async def read() -> Sequence[Any] | None:
        try:
            return await Reader(database).first(statement, values)
        finally:
            await database.dispose_async()

    return asyncio.run(read())


def add_member(database: Database) -> int:
    with database.session() as db:
        member = Member(email="ada@example.com", name="Ada", status=Status.banned)
        db.add(member)
        db.commit()
        return member.id


def test_the_row_and_no_row(database: Database) -> None:
    key = add_member(database)
    assert tuple(first(database, BY_ID, {"member_id": key}) or ()) == (
        key,
        "ada@example.com",
        "Ada",
        None,
    )
    assert first(database, BY_ID, {"member_id": key + 1}) is None
    # Columns by name and slices, as with SQLAlchemy's Row, whichever way it was read.
    row: Any = first(database, BY_ID, {"member_id": key})
    assert row.email == "ada@example.com" and tuple(row[1:3]) == ("ada@example.com", "Ada")


def test_values_written_in_the_statement(database: Database) -> None:
    key = add_member(database)
    statement = (
        select(Member.name)
        .where(Member.id == bindparam("member_id"), Member.email == "ada@example.com")
        .limit(1)
    )
    assert tuple(first(database, statement, {"member_id": key}) or ()) == ("Ada",)
    other = statement.where(Member.name == "Grace")
    assert first(database, other, {"member_id": key}) is None


def test_values_the_dialect_converts_still_are(database: Database) -> None:
    # An Enum column is read back as the enum (SQLAlchemy converts the text it reads).
    key = add_member(database)
    statement = select(Member.status).where(Member.id == bindparam("member_id"))
    assert tuple(first(database, statement, {"member_id": key}) or ()) == (Status.banned,)


def test_listeners_see_every_statement(database: Database) -> None:
    key = add_member(database)
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = database.async_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert first(database, BY_ID, {"member_id": key}) is not None
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "FROM member" in seen[0]


def test_a_value_the_column_cannot_hold_raises_sqlalchemys_error(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite holds any integer")
    with pytest.raises(DBAPIError):
        first(database, BY_ID, {"member_id": 2**70})
