"""The admin benchmark's tables as nightowl models (SQLAlchemy declarative), used by the
nightowl admin and by SQLAdmin alike."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, relationship

from nightowl.db import Model, mapped_column


class BenchAuthor(Model):
    __tablename__ = "bench_author"
    __app_label__: ClassVar[str] = "bench"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.name


class BenchPost(Model):
    __tablename__ = "bench_post"
    __app_label__: ClassVar[str] = "bench"
    # The list's order with the key last: ``ORDER BY created_at DESC, id DESC`` is one
    # backward scan of it, and a deep page skips its offset on the index alone.
    __table_args__ = (Index("ix_bench_post_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column()
    author_id: Mapped[int] = mapped_column(ForeignKey("bench_author.id"), index=True)
    author: Mapped[BenchAuthor] = relationship()

    def __str__(self) -> str:
        return self.title
