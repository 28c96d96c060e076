"""A smoke subset on MariaDB: sessions, 409 and 503 with pymysql and aiomysql."""

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from nightowl import App, HTTPException
from nightowl.db import AsyncSession, Database, Session
from nightowl.testing import TestClient
from tests.db.models import Member, create_tables, drop_tables

MemberCreate = Member.schema("create")


@pytest.fixture
def maria(mariadb_url: str) -> Iterator[Database]:
    database = Database(mariadb_url)
    create_tables(database)
    try:
        yield database
    finally:
        drop_tables(database)
        database.close()


def test_mariadb_smoke(maria: Database) -> None:
    app = App(database=maria)

    @app.post("/sync", status_code=201)
    def create(data: MemberCreate, db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        db.flush()
        return member

    @app.post("/async", status_code=201)
    async def create_async(data: MemberCreate, db: AsyncSession) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        await db.flush()
        return member

    @app.post("/fail")
    async def fail(db: AsyncSession) -> None:
        db.add(Member(email="gone@example.com", name="G"))
        await db.flush()
        raise HTTPException(418, "rolled back")

    with TestClient(app) as client:
        assert client.post("/sync", json={"email": "a@example.com", "name": "A"}).status_code == 201
        created = client.post("/async", json={"email": "b@example.com", "name": "B"})
        assert created.status_code == 201, created.text
        assert created.json()["created_at"]
        twin = client.post("/async", json={"email": "a@example.com", "name": "Twin"})
        assert twin.status_code == 409
        assert (twin.json()["kind"], twin.json()["columns"]) == ("unique", ["email"])
        assert client.post("/fail").status_code == 418
    with maria.session() as session:
        assert list(session.scalars(select(Member.email).order_by(Member.id))) == [
            "a@example.com",
            "b@example.com",
        ]


def test_mariadb_refused_is_503() -> None:
    app = App(database="mysql://root@127.0.0.1:1/test")

    @app.get("/")
    async def index(db: AsyncSession) -> list[int]:
        return list(await db.scalars(select(Member.id)))

    @app.get("/sync")
    def sync(db: Session) -> list[int]:
        return list(db.scalars(select(Member.id)))

    with TestClient(app) as client:
        assert client.get("/").status_code == 503
        assert client.get("/sync").status_code == 503
    app.state.database.close()
