"""The SQL of a SQLite migration, recorded while it runs on a scratch copy of the schema.

Rebuilding a SQLite table (Alembic's batch mode) needs the table's live definition, so
``sqlmigrate`` cannot write such a migration's SQL offline.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["sql_on_scratch"]


def sql_on_scratch(migrations: Any, revision: str, down: str, *, backwards: bool) -> str:
    """The SQL of one SQLite migration, recorded while running it on a scratch copy
    of the schema in memory."""
    from sqlalchemy import event

    # The same class as the project's database, without importing it here.
    database_class: Any = type(migrations.database)
    scratch = database_class("sqlite://", metadata=migrations.database.metadata)
    for label, location in migrations.database.battery_migrations.items():
        scratch.add_migrations(label, location)
    try:
        on_scratch = type(migrations)(scratch, migrations.folder)
        if down != "base":
            on_scratch.upgrade(down)
        if backwards:
            on_scratch.upgrade(revision)
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith(("PRAGMA", "SELECT")):
                return
            statements.append(_inline(statement, params) + ";")

        event.listen(scratch.engine, "before_cursor_execute", record)
        if backwards:
            on_scratch.downgrade(down)
        else:
            on_scratch.upgrade(revision)
    finally:
        scratch.close()
    return "\n\n".join(statements) + "\n"


def _inline(statement: str, params: Any) -> str:
    """``statement`` with its ``?`` parameters written in, for reading."""
    if not params or not isinstance(params, (tuple, list)):
        return statement.strip()
    values = iter(params)

    def literal(_match: re.Match[str]) -> str:
        value = next(values, None)
        if value is None:
            return "NULL"
        if isinstance(value, (int, float)):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    return re.sub(r"\?", literal, statement.strip())
