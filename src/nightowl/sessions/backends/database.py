"""``request.session`` kept in the app's database: ``App(database=url, sessions="database")``.

Importing this module adds the ``nightowl_session`` table to ``Model.metadata``; the
sessions battery imports it only when database sessions are chosen, so projects that
do not use them never see the table in their migrations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from typing import cast as typed

from sqlalchemy import (
    JSON,
    DateTime,
    String,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    insert,
    inspect,
    select,
    type_coerce,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped

from nightowl.db import AsyncSession, Model, Reader, is_missing_table, mapped_column
from nightowl.exceptions import HTTPException
from nightowl.sessions.backends._base import Loaded, ServerSideBackend, SessionJoin

if TYPE_CHECKING:
    from nightowl.db import Database

__all__ = ["DatabaseSessionBackend", "SessionRecord", "SessionTableMissing"]

logger = logging.getLogger("nightowl.sessions")

_HOW_TO_CREATE = (
    "run `nightowl makemigrations` then `nightowl migrate` to create it "
    "(in tests, `database.create_all()`)"
)


class SessionRecord(Model):
    """One browser's session, a row of the ``nightowl_session`` table.

    ``data`` is the session as JSON text; rows whose ``expires_at`` has passed are
    ignored, and deleted from time to time by :class:`DatabaseSessionBackend`.
    """

    __tablename__ = "nightowl_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SessionTableMissing(HTTPException):
    """The sessions' table does not exist, so ``request.session`` cannot be saved: a 503.

    The problem's detail says only that sessions are unavailable; the log says which
    table is missing and how to create it.
    """

    def __init__(self) -> None:
        super().__init__(503, "Sessions are unavailable: the server's database is not set up.")


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseSessionBackend(ServerSideBackend):
    """Sessions in a table of the app's database: every worker and host shares them.

    The cookie holds only a signed random id. ``App(database=url, sessions="database")``
    builds one; by hand::

        database = Database("postgresql://app@db/app")
        app = App(database=database, sessions=DatabaseSessionBackend(database))

    The table, ``nightowl_session``, is part of the database's metadata, so
    ``nightowl makemigrations`` creates it (or ``database.create_all()`` in tests).
    When the app starts without it, a warning says so; until it exists, requests that
    save a session answer 503 (:class:`SessionTableMissing`) and the others go on with an
    empty session. Queries go through the database's async engine (inside
    :meth:`Database.test_session`, through the test's transaction).

    Args:
        database: the :class:`~nightowl.db.Database` to keep the sessions in.
        purge_interval: seconds between two deletions of expired rows; each process
            deletes them while saving its first session, then at most this often.
            ``None`` never does (call :meth:`purge` from a scheduled job instead).
    """

    def __init__(self, database: Database, *, purge_interval: float | None = 3600) -> None:
        self.database = database
        self.purge_interval = purge_interval
        self.table: Table = _table_in(database)
        self._next_purge = 0.0  # the first save of each process purges
        self._joins: list[SessionJoin] = []
        # Built once: only the bound values change from request to request.
        table = self.table
        self._query: Any = select(table.c.data).where(
            table.c.id == bindparam("id"), table.c.expires_at > bindparam("now")
        )
        self._joined_query: Any = None
        self._reader = Reader(database)

    def join(self, join: SessionJoin) -> bool:
        """Read ``join``'s row in the same query as each session (one round trip): the
        session's JSON names the row's id, which the query reads and casts to the type
        of ``join.column``."""
        self._joins.append(join)
        self._joined_query = None
        return True

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Check the id's signature, then read its row; ``(None, {})`` if unknown or expired."""
        session_id, data, _ = await self._load(cookie, self._query, ())
        return session_id, data

    async def load_joined(self, cookie: str, max_age: int) -> Loaded:
        """:meth:`load`, with the rows of the joins read in the same query."""
        if not self._joins:
            return await self._load(cookie, self._query, ())
        if self._joined_query is None:
            self._joined_query = _joined_query(self.table, self._joins, self.database.backend)
        try:
            return await self._load(cookie, self._joined_query, self._joins)
        except sa_exc.DBAPIError as exc:
            if is_missing_table(exc):
                raise
            # Session data the database cannot read as JSON, or an id it cannot cast
            # (written by hand): the session alone, and the caller reads the row itself.
            logger.warning("Reading the session with its joined rows failed: %s", exc)
            return await self._load(cookie, self._query, ())

    async def _load(self, cookie: str, query: Any, joins: list[SessionJoin] | tuple[()]) -> Loaded:
        session_id = self.unsign_id(cookie)
        if session_id is None:
            return None, {}, {}
        try:
            row = await self._reader.first(query, {"id": session_id, "now": _now()})
        except sa_exc.DBAPIError as exc:
            if not is_missing_table(exc):
                raise
            # Without the table there is no session to read: the request goes on with an
            # empty one (pages that only read it still work), and only saving it fails.
            self._log_missing("read request.session (it is empty for this request)")
            return None, {}, {}
        if row is None:
            return None, {}, {}
        data = self.decode(row[0])
        if data is None:
            return None, {}, {}
        joined: dict[str, tuple[Any, Any]] = {}
        start = 1
        for join in joins:
            end = start + len(join.columns) + 1
            values = tuple(row[start + 1 : end])
            # The first column read is the join's own: NULL when no row matched.
            joined[join.name] = (data.get(join.key), values if row[start] is not None else None)
            start = end
        return session_id, data, joined

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Write the row (a new one for a new session), expiring in ``max_age`` seconds.

        Raises:
            SessionTableMissing: the table does not exist (a 503 problem).
        """
        values = {"data": self.encode(data), "expires_at": _now() + timedelta(seconds=max_age)}
        try:
            session_id = await self._write(session_id, values)
        except sa_exc.DBAPIError as exc:
            if not is_missing_table(exc):
                raise
            self._log_missing("save request.session")
            raise SessionTableMissing from exc
        await self._maybe_purge()
        return self.sign_id(session_id)

    async def delete(self, session_id: str | None) -> None:
        """Delete the session's row."""
        if session_id is None:
            return
        try:
            async with self._transaction() as connection:
                await connection.execute(delete(self.table).where(self.table.c.id == session_id))
        except sa_exc.DBAPIError as exc:
            if not is_missing_table(exc):
                raise
            # No table, no row: the session is gone already, so logging out still works.
            self._log_missing("delete request.session")

    async def purge(self) -> int:
        """Delete the expired rows now; returns how many there were."""
        async with self._transaction() as connection:
            done = await connection.execute(
                delete(self.table).where(self.table.c.expires_at <= _now())
            )
        return _rowcount(done)

    async def check(self) -> None:
        """Log a warning when the table does not exist; the app runs this when it starts.

        It only warns, never fails, also when the database cannot be read.
        """
        table = self.table

        def exists(connection: Connection) -> bool:
            return inspect(connection).has_table(table.name, schema=table.schema)

        try:
            async with self.database.async_engine.connect() as connection:
                found = await connection.run_sync(exists)
        except Exception as exc:
            logger.warning(
                "Could not check that the %s table exists: %s: %s",
                table.fullname,
                type(exc).__name__,
                exc,
            )
            return
        if not found:
            logger.warning(
                'The %s table, where App(sessions="database") keeps request.session, '
                "does not exist: %s. Until then, requests that save a session answer 503.",
                table.fullname,
                _HOW_TO_CREATE,
            )

    async def _write(self, session_id: str | None, values: dict[str, Any]) -> str:
        """Update the session's row, or insert one; returns the session's id."""
        table = self.table
        if session_id is not None:
            async with self._transaction() as connection:
                done = await connection.execute(
                    update(table).where(table.c.id == session_id).values(values)
                )
            if _rowcount(done):
                return session_id
            # The row expired and was purged meanwhile: start again under the same id.
        session_id = session_id or self.new_id()
        try:
            async with self._transaction() as connection:
                await connection.execute(insert(table).values(id=session_id, **values))
        except sa_exc.IntegrityError:
            # A concurrent request of the same browser inserted it first.
            async with self._transaction() as connection:
                await connection.execute(
                    update(table).where(table.c.id == session_id).values(values)
                )
        return session_id

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection | AsyncSession]:
        """A transaction, committed at the end of the block."""
        database = self.database
        if not database.in_test_session:
            async with database.async_engine.begin() as connection:
                yield connection
            return
        # Inside Database.test_session(): a savepoint of the test's transaction, so that
        # the sessions are rolled back with it (and SQLite's lock is not waited for).
        async with database.async_session() as session, session.begin():
            yield session

    async def _maybe_purge(self) -> None:
        if self.purge_interval is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self.purge_interval
        try:
            await self.purge()
        except sa_exc.SQLAlchemyError:
            # Housekeeping: the session was saved, so the request must not fail for this.
            logger.warning("Deleting expired sessions failed", exc_info=True)

    def _log_missing(self, action: str) -> None:
        logger.error(
            "Could not %s: the %s table does not exist; %s.",
            action,
            self.table.fullname,
            _HOW_TO_CREATE,
        )


def _joined_query(table: Table, joins: list[SessionJoin], backend: str) -> Any:
    """``SELECT data, <each join's columns> FROM session LEFT JOIN ...`` for one id."""
    columns: list[Any] = [table.c.data]
    source: Any = table
    for join in joins:
        # The JSON text as JSON: PostgreSQL needs a cast; SQLite and MySQL read the text.
        data = (
            cast(table.c.data, JSON) if backend == "postgresql" else type_coerce(table.c.data, JSON)
        )
        ident = cast(data[join.key].as_string(), join.column.type)
        source = source.outerjoin(join.table, join.column == ident)
        columns += [join.column, *join.columns]
    return (
        select(*columns)
        .select_from(source)
        .where(table.c.id == bindparam("id"), table.c.expires_at > bindparam("now"))
    )


def _rowcount(result: Result[Any]) -> int:
    # An AsyncSession types what it returns as a Result; for DML it is a CursorResult.
    return int(typed("CursorResult[Any]", result).rowcount or 0)


def _table_in(database: Database) -> Table:
    """The session table in ``database.metadata`` (copied there when it is not Model's)."""
    table: Table = SessionRecord.__table__  # type: ignore[assignment]
    if database.metadata is table.metadata:
        return table
    existing = database.metadata.tables.get(table.name)
    return existing if existing is not None else table.to_metadata(database.metadata)
