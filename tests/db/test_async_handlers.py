"""Async handlers that take an ``AsyncSession`` run in SQLAlchemy's greenlet bridge.

Whatever they await besides the database must behave as in any other handler: sleeps,
gathers, timeouts, errors thrown into them, context variables. These tests run on SQLite
and PostgreSQL.
"""

import asyncio
import contextvars
from typing import cast

import httpx
from sqlalchemy import func, select, text

from nightowl import App, HTTPException
from nightowl.db import AsyncSession, Database
from nightowl.testing import AsyncTestClient, TestClient
from tests.db.models import Entry, Member

_label: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="unset")


def _add_member(database: Database, name: str = "Ann") -> int:
    with database.session() as session:
        member = Member(email=f"{name.lower()}@example.com", name=name)
        session.add(member)
        session.flush()
        session.add(Entry(title=f"{name}'s first", author_id=member.id))
        session.commit()
        return member.id


def test_queries_mix_with_every_other_await(app: App, database: Database) -> None:
    member_id = _add_member(database)

    async def later(value: str) -> str:
        await asyncio.sleep(0.001)
        return value

    @app.get("/mixed")
    async def mixed(db: AsyncSession) -> dict[str, object]:
        _label.set("set in the handler")
        member = await db.get(Member, member_id)
        assert member is not None
        await asyncio.sleep(0)  # a bare yield to the loop
        pair = await asyncio.gather(later("a"), later("b"))
        count = await db.scalar(select(func.count()).select_from(Member))
        titles = list(await db.scalars(select(Entry.title)))
        one = (await db.execute(text("SELECT 1"))).scalar_one()
        name = await db.run_sync(lambda session: cast(Member, session.get(Member, member_id)).name)
        await db.refresh(member, ["nickname"])
        task_value = await asyncio.create_task(later("from a task"))
        return {
            "name": member.name,
            "pair": pair,
            "count": count,
            "titles": titles,
            "one": one,
            "run_sync": name,
            "task": task_value,
            "label": _label.get(),
        }

    with TestClient(app) as client:
        assert client.get("/mixed").json() == {
            "name": "Ann",
            "pair": ["a", "b"],
            "count": 1,
            "titles": ["Ann's first"],
            "one": 1,
            "run_sync": "Ann",
            "task": "from a task",
            "label": "set in the handler",
        }


def test_timeouts_and_errors_are_thrown_into_the_handler(app: App, database: Database) -> None:
    member_id = _add_member(database)

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("from an awaited coroutine")

    @app.get("/guarded")
    async def guarded(db: AsyncSession) -> dict[str, object]:
        outcome = []
        try:
            async with asyncio.timeout(0.05):
                await asyncio.sleep(5)
        except TimeoutError:
            outcome.append("timed out")
        try:
            await fails()
        except ValueError as exc:
            outcome.append(str(exc))
        member = await db.get_or_404(Member, member_id)  # the session still works
        return {"outcome": outcome, "name": member.name}

    @app.get("/missing")
    async def missing(db: AsyncSession) -> dict[str, str]:
        await db.get_or_404(Member, 999)
        return {"never": "here"}

    with TestClient(app) as client:
        assert client.get("/guarded").json() == {
            "outcome": ["timed out", "from an awaited coroutine"],
            "name": "Ann",
        }
        problem = client.get("/missing")
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["detail"] == "No Member with id 999."


def test_writes_in_the_bridge_commit_or_roll_back(app: App, database: Database) -> None:
    member_id = _add_member(database)

    @app.post("/rename/{name}")
    async def rename(name: str, db: AsyncSession) -> dict[str, str]:
        member = await db.get_or_404(Member, member_id)
        member.name = name
        await asyncio.sleep(0.001)
        if name == "Nope":
            raise HTTPException(409, "not that name")
        return {"name": member.name}

    with TestClient(app) as client:
        assert client.post("/rename/Bea").json() == {"name": "Bea"}
        assert client.post("/rename/Nope").status_code == 409
    with database.session() as session:
        assert cast(Member, session.get(Member, member_id)).name == "Bea"


def test_concurrent_requests_keep_their_own_sessions(app: App, database: Database) -> None:
    ids = [_add_member(database, name) for name in ("Ann", "Bo", "Cy", "Di")]

    @app.get("/members/{member_id}")
    async def member(member_id: int, db: AsyncSession) -> dict[str, str]:
        first = await db.get_or_404(Member, member_id)
        await asyncio.sleep(0.01)  # let the other requests run in between
        again = await db.scalar(select(Member.name).where(Member.id == member_id))
        return {"name": first.name, "again": again or ""}

    async def send_all() -> list[httpx.Response]:
        async with AsyncTestClient(app) as client:
            return await asyncio.gather(*[client.get(f"/members/{i}") for i in ids * 3])

    replies = asyncio.run(send_all())
    names = [reply.json()["name"] for reply in replies]
    assert names == ["Ann", "Bo", "Cy", "Di"] * 3
    assert all(reply.json()["again"] == reply.json()["name"] for reply in replies)
