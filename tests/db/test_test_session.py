"""``Database.test_session()``: requests' sync and async sessions, rolled back with the test."""

import asyncio
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, text

from nightowl import App, HTTPException
from nightowl.db import AsyncSession, Database, Session
from nightowl.testing import AsyncTestClient, TestClient
from tests.db.models import Member


def _emails(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Member.email).order_by(Member.id)))


def _routes(app: App) -> App:
    @app.post("/async/{name}", status_code=201)
    async def create_async(name: str, db: AsyncSession) -> dict[str, int]:
        member = Member(email=f"{name}@example.com", name=name)
        db.add(member)
        await db.flush()
        return {"id": member.id}

    @app.post("/committed/{name}")
    async def create_and_commit(name: str, db: AsyncSession) -> None:
        db.add(Member(email=f"{name}@example.com", name=name))
        await db.commit()

    @app.post("/failing/{name}")
    async def create_then_fail(name: str, db: AsyncSession) -> None:
        db.add(Member(email=f"{name}@example.com", name=name))
        await db.flush()
        raise HTTPException(400, "changed my mind")

    @app.post("/sync/{name}")
    def create_sync(name: str, db: Session) -> None:
        db.add(Member(email=f"{name}@example.com", name=name))

    @app.get("/async")
    async def list_async(db: AsyncSession) -> list[str]:
        return list(await db.scalars(select(Member.email).order_by(Member.id)))

    @app.get("/sync")
    def list_sync(db: Session) -> list[str]:
        return list(db.scalars(select(Member.email).order_by(Member.id)))

    @app.post("/core")
    async def core(db: AsyncSession) -> dict[str, Any]:
        # Statements without the ORM, whose rows come from the driver's cursor.
        count = (await db.execute(text("SELECT count(*) FROM member"))).scalar_one()
        renamed = await db.execute(text("UPDATE member SET nickname = 'core'"))
        streamed = await db.stream_scalars(select(Member.nickname).order_by(Member.id))
        return {
            "count": count,
            "renamed": cast("CursorResult[Any]", renamed).rowcount,
            "nicknames": [name async for name in streamed],
        }

    return app


def test_async_handlers_are_rolled_back(database: Database) -> None:
    app = _routes(App(database=database))
    with database.test_session() as session:
        with TestClient(app) as client:
            assert client.post("/async/ann").status_code == 201
            assert client.post("/committed/bo").status_code == 200  # a real commit() too
            assert client.get("/async").json() == ["ann@example.com", "bo@example.com"]
        with TestClient(app) as client:  # a second app run, on a loop of its own
            assert client.get("/async").json() == ["ann@example.com", "bo@example.com"]
        assert list(session.scalars(select(Member.name).order_by(Member.id))) == ["ann", "bo"]
    assert _emails(database) == []


def test_sync_and_async_sessions_share_the_test_transaction(database: Database) -> None:
    app = _routes(App(database=database))
    with database.test_session() as session:
        session.add(Member(email="setup@example.com", name="setup"))
        session.commit()  # releases a savepoint: the requests see the row
        with TestClient(app) as client:
            assert client.post("/sync/ann").status_code == 200
            assert client.post("/async/bo").status_code == 201
            assert client.post("/failing/cy").status_code == 400  # only its own work undone
            duplicate = client.post("/async/ann")
            assert duplicate.status_code == 409  # and the transaction is still usable
            everyone = ["setup@example.com", "ann@example.com", "bo@example.com"]
            assert client.get("/sync").json() == everyone
            assert client.get("/async").json() == everyone
            core = client.post("/core").json()
            assert core == {"count": 3, "renamed": 3, "nicknames": ["core"] * 3}
        assert session.scalar(select(func.count()).select_from(Member)) == 3
    assert _emails(database) == []


def test_async_test_client_and_async_sessions_of_the_test(database: Database) -> None:
    app = _routes(App(database=database))

    async def scenario() -> list[str]:
        async with AsyncTestClient(app) as client:
            assert (await client.post("/committed/ann")).status_code == 200
        async with database.async_session() as session:
            session.add(Member(email="bo@example.com", name="bo"))
            await session.commit()
            return list(await session.scalars(select(Member.email).order_by(Member.id)))

    with database.test_session():
        assert asyncio.run(scenario()) == ["ann@example.com", "bo@example.com"]
    assert _emails(database) == []


def test_outside_the_block_async_handlers_commit(database: Database) -> None:
    app = _routes(App(database=database))
    with database.test_session(), TestClient(app) as client:
        client.post("/async/rolled-back")
    with TestClient(app) as client:
        assert client.post("/async/kept").status_code == 201
    assert _emails(database) == ["kept@example.com"]
