"""The SQL a block of code sends, as tests that count or inspect statements need it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from nightowl.db import Database

__all__ = ["recorded_statements"]


@contextmanager
def recorded_statements(database: Database) -> Iterator[list[str]]:
    """Every statement ``database``'s async engine sends inside the block, its whitespace
    collapsed, in order::

        with recorded_statements(app.state.database) as statements:
            client.get("/admin/blog/post/")
        assert len(statements) == 2
    """
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(" ".join(str(args[2]).split()))

    engine = database.async_engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
