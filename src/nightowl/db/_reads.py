"""Reads on the request path in one round trip each: no ``BEGIN`` or ``ROLLBACK``.

A single ``SELECT`` (a session's row, a user, an API key) in a transaction costs the async
drivers a ``BEGIN`` and a ``ROLLBACK`` besides, each a round trip to the server.
:class:`Reader` runs it on a pooled connection in autocommit mode instead (the setting is
the driver's, made without a round trip, and undone when the connection returns to the
pool). Inside ``Database.test_session()`` it reads through the test's session, so tests
still see their own uncommitted rows.

On asyncpg, a statement whose parameters and columns the dialect passes through as they
are (integers, strings, booleans, dates: no type of the user's with its own conversion)
is compiled once and sent with the driver's ``fetchrow`` on a pooled connection, which
asyncpg runs outside any transaction: the same SQL and the same values, for about half
the CPU of SQLAlchemy's ``Connection``. An engine with ``before_cursor_execute`` or
``after_cursor_execute`` listeners (tracing, statement counting) always goes through
SQLAlchemy, so they see every statement, and so does any statement the driver refuses:
the error raised is SQLAlchemy's, as callers expect.

:func:`read_session` is the same for reads that need the ORM (several queries, loading
objects): an ``AsyncSession`` on one such connection, each statement its own round trip.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import types as sa_types
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import await_only, greenlet_spawn

__all__ = ["Reader", "read_session"]

#: Column and parameter types asyncpg reads and writes as SQLAlchemy does (no processor).
_PLAIN_TYPES = (
    sa_types.Integer,
    sa_types.String,
    sa_types.Boolean,
    sa_types.DateTime,
    sa_types.Date,
    sa_types.Time,
)
#: The engine events a statement sent by the driver itself would skip.
_EXECUTE_EVENTS = (
    "before_execute",
    "after_execute",
    "before_cursor_execute",
    "after_cursor_execute",
)


class Reader:
    """Runs reads of one database outside any transaction (see the module's docs).

    Args:
        database: the app's :class:`~nightowl.db.Database`.
    """

    def __init__(self, database: Any) -> None:
        self.database = database
        #: statement -> how the driver sends it, or ``None``: not plain.
        self._plain: weakref.WeakKeyDictionary[Any, _Plain | None] = weakref.WeakKeyDictionary()

    async def first(self, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
        """The first row ``statement`` (a Core statement) gives with ``values``, or ``None``."""
        database = self.database
        if database.in_test_session:
            async with database.async_session() as session:
                found: Sequence[Any] | None = (await session.execute(statement, values)).first()
                return found
        sync_engine = _autocommit_engine(database).sync_engine
        plain = self._plain_sql(statement, sync_engine)
        if plain is not None:
            # The statement's own values (a literal, a LIMIT) besides the caller's.
            parameters = plain.compiled.construct_params(values)
            arguments = [parameters[name] for name in plain.names]
            try:
                return await greenlet_spawn(_fetchrow, sync_engine.pool, plain, arguments)
            except _DriverRefused:
                pass  # SQLAlchemy runs it again, and raises its own error
        # Checkout, execute and checkin in one trip to the driver's greenlet (what
        # AsyncConnection does in three): a third less CPU for the read.
        row: Sequence[Any] | None = await greenlet_spawn(_first, sync_engine, statement, values)
        return row

    def _plain_sql(self, statement: Any, engine: Any) -> _Plain | None:
        """The driver's SQL and parameter order for ``statement``, when it can skip
        SQLAlchemy's execution (see the module's docs); ``None`` otherwise."""
        if engine.dialect.driver != "asyncpg":
            return None
        dispatch = engine.dispatch
        if any(getattr(dispatch, name) for name in _EXECUTE_EVENTS):
            return None
        try:
            return self._plain[statement]
        except KeyError:
            pass
        compiled = statement.compile(dialect=engine.dialect)
        names = tuple(compiled.positiontup or ())
        binds = (
            [compiled.binds[name] for name in names] if set(names) <= set(compiled.binds) else None
        )
        plain = (
            binds is not None
            and not compiled._bind_processors
            and not compiled.literal_execute_params
            and not compiled.post_compile_params
            and all(_plain_type(bind.type, engine.dialect) for bind in binds)
            and all(_plain_type(column[3], engine.dialect) for column in compiled._result_columns)
        )
        found = _Plain(compiled, names) if plain else None
        self._plain[statement] = found
        return found


def _plain_type(type_: Any, dialect: Any) -> bool:
    """Whether the dialect passes values of ``type_`` through unchanged."""
    if isinstance(type_, sa_types.TypeDecorator) or not isinstance(type_, _PLAIN_TYPES):
        return False
    try:
        return type_._cached_result_processor(dialect, None) is None
    except Exception:  # a processor that needs the driver's own type code
        return False


class _DriverRefused(Exception):
    """The driver raised: SQLAlchemy runs the statement again to raise its own error."""


class _Plain:
    """A statement the driver sends itself: its SQL, its parameters' order, and its rows'
    class (a named tuple: indexes and column names, as SQLAlchemy's ``Row``)."""

    __slots__ = ("compiled", "names", "row", "sql")

    def __init__(self, compiled: Any, names: tuple[str, ...]) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.names = names
        self.row: Any = _row_class([column[0] for column in compiled._result_columns])


def _row_class(keys: list[str]) -> Any:
    """A named tuple of these columns (a name Python refuses becomes ``_<index>``)."""
    return namedtuple("Row", keys, rename=True)


def _fetchrow(pool: Any, plain: _Plain, arguments: list[Any]) -> Sequence[Any] | None:
    connection = pool.connect()
    try:
        record = await_only(connection.driver_connection.fetchrow(plain.sql, *arguments))
    except Exception as exc:
        raise _DriverRefused from exc
    finally:
        connection.close()
    return None if record is None else plain.row._make(record)


def _first(engine: Any, statement: Any, values: dict[str, Any]) -> Sequence[Any] | None:
    with engine.connect() as connection:
        found: Sequence[Any] | None = connection.execute(statement, values).first()
        return found


@asynccontextmanager
async def read_session(database: Any) -> AsyncIterator[AsyncSession]:
    """An ``AsyncSession`` of ``database`` for reads outside any transaction::

        async with read_session(app.state.database) as session:
            posts = (await session.scalars(select(Post).limit(20))).all()

    Each statement runs on its own, in autocommit mode (no ``BEGIN``, no ``ROLLBACK``),
    so the session is for reading only: what it writes is not undone. Inside
    ``database.test_session()`` it is the test's session, which sees the test's rows.
    """
    if database.in_test_session:
        async with database.async_session() as session:
            yield session
        return
    # Bound to the engine's autocommit twin (the same pool), the session checks a
    # connection out with its first query and returns it when it closes, without the
    # extra trips to the driver's greenlet that opening an AsyncConnection first takes.
    async with AsyncSession(bind=_autocommit_engine(database), expire_on_commit=False) as session:
        yield session


#: Each database's async engine and its autocommit twin (sharing its pool), by database.
_AUTOCOMMIT: weakref.WeakKeyDictionary[Any, tuple[AsyncEngine, AsyncEngine]] = (
    weakref.WeakKeyDictionary()
)


def _autocommit_engine(database: Any) -> AsyncEngine:
    """The autocommit twin of ``database``'s async engine (the same pool), made once per
    engine: what :class:`Reader` and :func:`read_session` read through."""
    engine: AsyncEngine = database.async_engine
    kept = _AUTOCOMMIT.get(database)
    if kept is None or kept[0] is not engine:
        # The app's engine is replaced when its pool is disposed: follow it.
        kept = _AUTOCOMMIT[database] = (
            engine,
            engine.execution_options(isolation_level="AUTOCOMMIT"),
        )
    return kept[1]
