"""Integrity errors as 409 problems, however the driver reports the constraint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped, unused-ignore]
import pytest
from sqlalchemy import CheckConstraint, Column, Integer, MetaData, Table, insert
from sqlalchemy import exc as sa_exc

from nightowl import App
from nightowl.db import AsyncSession, Database, Session
from nightowl.testing import TestClient
from tests.db.models import Member, create_tables, drop_tables
from tests.live import live_client

STOCK = MetaData()
stock = Table(
    "stock",
    STOCK,
    Column("id", Integer, primary_key=True),
    Column("quantity", Integer, CheckConstraint("quantity > 0", name="ck_stock_positive")),
)


@pytest.fixture
def shop(database_url: str) -> Iterator[Database]:
    database = Database(database_url, metadata=STOCK)
    database.create_all()
    try:
        yield database
    finally:
        database.drop_all()
        database.close()


def test_a_failed_check_is_a_409_naming_the_check(shop: Database) -> None:
    app = App(database=shop)

    @app.post("/stock")
    def add(db: Session) -> None:
        db.execute(insert(stock).values(quantity=0))

    with TestClient(app) as client:
        response = client.post("/stock")
    assert response.status_code == 409
    body = response.json()
    assert (body["kind"], body["constraint"]) == ("check", "ck_stock_positive")
    assert body["detail"] == "The check ck_stock_positive failed."


def test_an_integrity_error_of_no_known_kind_is_still_a_409() -> None:
    database = Database("sqlite://", metadata=STOCK)
    database.create_all()
    app = App(database=database)

    @app.post("/stock")
    def add(db: Session) -> None:
        db.execute(insert(stock).values(id="abc", quantity=1))  # SQLite: "datatype mismatch"

    with TestClient(app) as client:
        body = client.post("/stock").json()
    database.close()
    assert (body["status"], body["kind"], body["constraint"]) == (409, "integrity", None)
    assert body["detail"] == "The change conflicts with the data already stored."


def test_asyncpg_errors_name_the_constraint(postgres_url: str) -> None:
    database = Database(postgres_url.replace("+psycopg", "+asyncpg"))
    create_tables(database)
    app = App(database=database)

    @app.post("/members")
    async def add(db: AsyncSession) -> None:
        db.add(Member(email="ann@example.com", name="Ann"))
        await db.flush()
        db.add(Member(email="ann@example.com", name="Twin"))

    @app.post("/nameless")
    async def nameless(db: AsyncSession) -> None:
        db.add(Member(email="n@example.com", name=None))

    try:
        with TestClient(app) as client:
            twin = client.post("/members").json()
            null = client.post("/nameless").json()
    finally:
        drop_tables(database)
        database.close()
    assert (twin["status"], twin["kind"]) == (409, "unique")
    assert (twin["constraint"], twin["columns"]) == ("uq_member_email", ["email"])
    assert (null["kind"], null["columns"]) == ("not_null", ["name"])


@pytest.mark.parametrize(
    ("number", "message", "expected"),
    [
        (
            1452,
            "Cannot add or update a child row: a foreign key constraint fails (`shop`.`entry`, "
            "CONSTRAINT `fk_entry_author_id_member` FOREIGN KEY (`author_id`) "
            "REFERENCES `member` (`id`))",
            {
                "kind": "foreign_key",
                "constraint": "fk_entry_author_id_member",
                "columns": ["author_id"],
            },
        ),
        (1048, "Column 'name' cannot be null", {"kind": "not_null", "columns": ["name"]}),
        (
            1364,
            "Field 'name' doesn't have a default value",
            {"kind": "not_null", "columns": ["name"]},
        ),
        (
            3819,
            "Check constraint 'ck_stock_positive' is violated.",
            {"kind": "check", "constraint": "ck_stock_positive"},
        ),
        (
            4025,
            "CONSTRAINT `ck_stock_positive` failed for `shop`.`stock`",
            {"kind": "check", "constraint": "ck_stock_positive"},
        ),
    ],
)
def test_mysql_and_mariadb_messages_name_the_constraint(
    number: int, message: str, expected: dict[str, Any]
) -> None:
    # The server's own wording, as pymysql reports it (MariaDB's smoke test covers "unique").
    app = App(database="sqlite://")

    @app.post("/")
    def fail() -> None:
        error = pymysql.err.IntegrityError(number, message)
        raise sa_exc.IntegrityError("INSERT INTO entry (author_id) VALUES (%s)", (1,), error)

    with TestClient(app) as client:
        body = client.post("/").json()
    app.state.database.close()
    assert body["status"] == 409
    assert {key: body[key] for key in expected} == expected


def test_a_conflict_cannot_forge_a_log_line_through_a_submitted_value(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL quotes the duplicate value in its error; the log line escapes it.
    database = Database(postgres_url)
    create_tables(database)
    app = App(database=database)

    @app.post("/members/{email}")
    def add(email: str, db: Session) -> None:
        db.add(Member(email=email, name="Ann"))
        db.flush()
        db.add(Member(email=email, name="Twin"))

    forged = "x%0d%0aFORGED%20admin%20logged%20in"
    try:
        with caplog.at_level("INFO", logger="nightowl.db"), live_client(app) as client:
            assert client.post(f"/members/{forged}").status_code == 409
    finally:
        drop_tables(database)
        database.close()
    lines = [record.getMessage() for record in caplog.records if record.name == "nightowl.db"]
    assert lines, caplog.records
    assert all("\n" not in line and "\r" not in line for line in lines)
    assert any("/members/x\\r\\nFORGED admin logged in" in line for line in lines)


def test_an_outage_cannot_forge_a_log_line_through_the_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(database="postgresql+psycopg://postgres@127.0.0.1:9/nowhere")

    @app.get("/members/{email}")
    def find(email: str, db: Session) -> None:
        db.get(Member, 1)

    with caplog.at_level("INFO", logger="nightowl.db"), live_client(app) as client:
        assert client.get("/members/x%0d%0aFORGED").status_code == 503
    lines = [record.getMessage() for record in caplog.records if record.name == "nightowl.db"]
    assert any("/members/x\\r\\nFORGED" in line for line in lines), lines
    assert all("\n" not in line and "\r" not in line for line in lines)


def test_a_sqlite_file_that_cannot_be_opened_names_the_path(tmp_path: Path) -> None:
    from sqlalchemy import text

    from nightowl.db import is_unavailable

    missing = tmp_path / "no-such-folder" / "app.db"
    database = Database(f"sqlite:///{missing}")
    try:
        with pytest.raises(sa_exc.OperationalError) as caught, database.engine.connect() as conn:
            conn.execute(text("select 1"))
    finally:
        database.close()
    message = str(caught.value.orig)
    assert message == (
        f"unable to open database file {missing} (the folder {missing.parent} does not exist)"
    )
    assert is_unavailable(caught.value)  # still a 503 when it happens to a request
