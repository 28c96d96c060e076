"""The database checks of ``nightowl check --deploy``: pools against the server's
connection limit, and migrations not yet applied."""

from __future__ import annotations

from typing import Any

from nightowl.cli._findings import Finding

__all__ = ["migrations_finding", "pool_finding"]

#: Connections PostgreSQL keeps for superusers and maintenance, out of max_connections.
_RESERVED = 3


def pool_finding(database: Any, workers: int) -> Finding:
    """Whether ``workers`` processes, each with a sync and an async pool at their fullest,
    fit in the database server's connection limit."""
    if database.backend == "sqlite":
        if workers > 1:
            return Finding(
                "database_pool",
                "warn",
                f"SQLite with {workers} workers: one writer at a time; use PostgreSQL for "
                "concurrent writes.",
            )
        return Finding("database_pool", "ok", "SQLite, one worker.")
    pool = database.engine.pool
    size = pool.size() if callable(getattr(pool, "size", None)) else 5
    overflow = max(0, int(getattr(pool, "_max_overflow", 10)))
    per_worker = 2 * (size + overflow)  # the sync and the async engine each have a pool
    needed = workers * per_worker
    try:
        limit = _max_connections(database)
    except Exception as exc:
        return Finding(
            "database_pool", "fail", f"cannot reach the database: {type(exc).__name__}: {exc}"
        )
    if limit is None:
        return Finding("database_pool", "ok", f"up to {needed} connections ({workers} workers).")
    usable = limit - _RESERVED
    detail = (
        f"{workers} worker{'s' if workers != 1 else ''} x 2 pools x (pool_size {size} + max_overflow {overflow}) = "
        f"{needed} connections; the server allows {usable} (max_connections {limit})"
    )
    if needed > usable:
        return Finding(
            "database_pool",
            "fail",
            detail + ": lower pool_size/max_overflow, or run fewer workers per database.",
        )
    return Finding("database_pool", "ok", detail + ".")


def _max_connections(database: Any) -> int | None:
    backend = database.backend
    if backend == "postgresql":
        statement = "SHOW max_connections"
    elif backend in ("mysql", "mariadb"):
        statement = "SELECT @@max_connections"
    else:
        return None
    with database.engine.connect() as connection:
        return int(connection.exec_driver_sql(statement).scalar_one())


def migrations_finding(database: Any) -> Finding:
    """Whether every migration of the project (and of its batteries) is applied."""
    from nightowl.db.migrations import Migrations

    migrations = Migrations(database)
    if not migrations.exists:
        return Finding("migrations", "ok", "the project has no migrations folder.")
    try:
        pending = migrations.pending()
    except Exception as exc:
        return Finding(
            "migrations", "fail", f"cannot read the migrations: {type(exc).__name__}: {exc}"
        )
    if pending:
        names = ", ".join(m.name for m in pending)
        return Finding(
            "migrations", "fail", f"{len(pending)} not applied ({names}): run nightowl migrate."
        )
    return Finding("migrations", "ok", "every migration is applied.")
