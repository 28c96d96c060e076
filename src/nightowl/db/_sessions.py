"""``request.session`` kept in the app's database: ``App(database=url, sessions="database")``.

Importing this module adds the ``nightowl_session`` table to ``Model.metadata``; the
database battery imports it only when database sessions are chosen, so projects that
do not use them never see the table in their migrations.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, Table, Text, delete, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Mapped

from nightowl.db._model import Model, mapped_column
from nightowl.sessions.backends import ServerSideBackend

if TYPE_CHECKING:
    from nightowl.db._database import Database

__all__ = ["DatabaseSessionBackend", "SessionRecord"]

logger = logging.getLogger("nightowl.db")


class SessionRecord(Model):
    """One browser's session, a row of the ``nightowl_session`` table.

    ``data`` is the session as JSON text; rows whose ``expires_at`` has passed are
    ignored, and deleted from time to time by :class:`DatabaseSessionBackend`.
    """

    __tablename__ = "nightowl_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


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
    Queries go through the database's async engine.

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

    async def load(self, cookie: str, max_age: int) -> tuple[str | None, dict[str, Any]]:
        """Check the id's signature, then read its row; ``(None, {})`` if unknown or expired."""
        session_id = self.unsign_id(cookie)
        if session_id is None:
            return None, {}
        table = self.table
        query = select(table.c.data).where(table.c.id == session_id, table.c.expires_at > _now())
        async with self.database.async_engine.connect() as connection:
            raw = (await connection.execute(query)).scalar_one_or_none()
        data = self.decode(raw) if raw is not None else None
        if data is None:
            return None, {}
        return session_id, data

    async def save(self, session_id: str | None, data: dict[str, Any], max_age: int) -> str:
        """Write the row (a new one for a new session), expiring in ``max_age`` seconds."""
        text = self.encode(data)
        expires_at = _now() + timedelta(seconds=max_age)
        table = self.table
        values = {"data": text, "expires_at": expires_at}
        engine = self.database.async_engine
        if session_id is not None:
            async with engine.begin() as connection:
                done = await connection.execute(
                    update(table).where(table.c.id == session_id).values(values)
                )
            if done.rowcount:
                await self._maybe_purge()
                return self.sign_id(session_id)
            # The row expired and was purged meanwhile: start again under the same id.
        session_id = session_id or self.new_id()
        try:
            async with engine.begin() as connection:
                await connection.execute(insert(table).values(id=session_id, **values))
        except sa_exc.IntegrityError:
            # A concurrent request of the same browser inserted it first.
            async with engine.begin() as connection:
                await connection.execute(
                    update(table).where(table.c.id == session_id).values(values)
                )
        await self._maybe_purge()
        return self.sign_id(session_id)

    async def delete(self, session_id: str | None) -> None:
        """Delete the session's row."""
        if session_id is None:
            return
        async with self.database.async_engine.begin() as connection:
            await connection.execute(delete(self.table).where(self.table.c.id == session_id))

    async def purge(self) -> int:
        """Delete the expired rows now; returns how many there were."""
        async with self.database.async_engine.begin() as connection:
            done = await connection.execute(
                delete(self.table).where(self.table.c.expires_at <= _now())
            )
        return int(done.rowcount or 0)

    async def _maybe_purge(self) -> None:
        if self.purge_interval is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self.purge_interval
        try:
            await self.purge()
        except sa_exc.SQLAlchemyError:
            # Housekeeping: the session was saved, so the request must not fail for this.
            logger.warning("Deleting expired sessions failed", exc_info=True)


def _table_in(database: Database) -> Table:
    """The session table in ``database.metadata`` (copied there when it is not Model's)."""
    table: Table = SessionRecord.__table__  # type: ignore[assignment]
    if database.metadata is table.metadata:
        return table
    existing = database.metadata.tables.get(table.name)
    return existing if existing is not None else table.to_metadata(database.metadata)
