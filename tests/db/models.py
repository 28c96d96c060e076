"""Models shared by the database tests (defined once: tables live in Model.metadata)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import Enum, ForeignKey, Numeric, String, Table, func

from nightowl.db import Database, Mapped, Model, mapped_column, relationship


class Status(enum.Enum):
    active = "active"
    banned = "banned"


class Member(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    nickname: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[Status] = mapped_column(
        Enum(Status, name="member_status"), default=Status.active
    )
    balance: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), read_only=True)
    password_hash: Mapped[str] = mapped_column(String(100), default="", private=True)
    entries: Mapped[list[Entry]] = relationship(back_populates="author", order_by="Entry.id")


class Entry(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    author: Mapped[Member] = relationship(back_populates="entries")


TABLES = [cast(Table, Member.__table__), cast(Table, Entry.__table__)]


def create_tables(database: Database) -> None:
    """Create the test tables only (other tests and docs add theirs to Model.metadata)."""
    Model.metadata.create_all(database.engine, tables=TABLES)


def drop_tables(database: Database) -> None:
    """Drop the test tables."""
    Model.metadata.drop_all(database.engine, tables=TABLES)
