"""``DateTime(timezone=True)`` reads back aware, in UTC, on SQLite as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nightowl import App
from nightowl.db import Database, Session
from nightowl.testing import TestClient


class Base(DeclarativeBase):
    pass


class Meeting(Base):
    __tablename__ = "tz_meeting"
    id: Mapped[int] = mapped_column(primary_key=True)
    starts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    local: Mapped[datetime] = mapped_column(DateTime())


@pytest.fixture
def meetings(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    try:
        yield database
    finally:
        Base.metadata.drop_all(database.engine)
        database.close()


def test_aware_values_come_back_aware_and_in_order(meetings: Database) -> None:
    paris = timezone(timedelta(hours=2))
    app = App(database=meetings)

    @app.post("/meetings")
    def add(db: Session) -> dict[str, int]:
        db.add(
            Meeting(starts=datetime(2026, 1, 2, 3, 4, 5, tzinfo=paris), local=datetime(2026, 1, 2))
        )
        db.add(Meeting(starts=datetime(2026, 1, 2, 2, 0, tzinfo=UTC), local=datetime(2026, 1, 3)))
        return {"added": 2}

    @app.get("/meetings")
    def listing(db: Session) -> list[dict[str, datetime]]:
        rows = db.scalars(select(Meeting).order_by(Meeting.starts))
        return [{"starts": row.starts, "local": row.local} for row in rows]

    with TestClient(app) as client:
        assert client.post("/meetings").status_code == 200
        body = client.get("/meetings").json()
    # The same JSON on SQLite and PostgreSQL: UTC, with its offset; naive columns stay naive.
    assert [row["starts"] for row in body] == ["2026-01-02T01:04:05Z", "2026-01-02T02:00:00Z"]
    assert [row["local"] for row in body] == ["2026-01-02T00:00:00", "2026-01-03T00:00:00"]
    with meetings.session() as session:
        starts = session.scalars(select(Meeting.starts).order_by(Meeting.id)).all()
        assert starts[0] == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)
        assert all(value.utcoffset() == timedelta(0) for value in starts)
