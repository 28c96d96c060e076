"""Database errors as problems: integrity errors are a 409, an unreachable database a 503."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import ForeignKeyConstraint, MetaData, Table, UniqueConstraint
from sqlalchemy import exc as sa_exc

from nightowl._logging import printable
from nightowl.exceptions import HTTPException
from nightowl.requests import Request
from nightowl.responses import Response

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "ConflictError",
    "ConstraintInfo",
    "DatabaseUnavailable",
    "describe_integrity_error",
    "install_error_handlers",
    "is_missing_table",
    "is_unavailable",
]

logger = logging.getLogger("nightowl.db")

#: Seconds a client is asked to wait before retrying after a 503.
RETRY_AFTER = "1"

# The kind of constraint behind a code: a SQLSTATE (PostgreSQL), a server error number
# (MySQL/MariaDB) or a word (sqlite3, which has no codes).
_KINDS = {
    "23505": "unique",
    "23503": "foreign_key",
    "23502": "not_null",
    "23514": "check",
    1062: "unique",
    1586: "unique",
    1451: "foreign_key",
    1452: "foreign_key",
    1048: "not_null",
    1364: "not_null",
    3819: "check",
    4025: "check",
    "UNIQUE": "unique",
    "NOT NULL": "not_null",
    "CHECK": "check",
    "FOREIGN KEY": "foreign_key",
}
# MySQL/MariaDB errors that mean "the server is not there (now)", not "your SQL is wrong".
_MYSQL_UNAVAILABLE = {1040, 1053, 1205, 1213, 2002, 2003, 2005, 2006, 2013, 2055}
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error")
# "Relation does not exist" on PostgreSQL, "table doesn't exist" on MySQL/MariaDB (as a
# SQLSTATE from the async adapters, or as the server's error number).
_UNDEFINED_TABLE = {"42P01", "42S02", 1146}


class ConstraintInfo:
    """What an integrity error says about the constraint that failed."""

    __slots__ = ("columns", "constraint", "kind", "table")

    def __init__(
        self,
        kind: str,
        constraint: str | None = None,
        table: str | None = None,
        columns: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self.constraint = constraint
        self.table = table
        self.columns = list(columns)

    def detail(self) -> str:
        """A sentence for the problem's ``detail``, without any of the offending values."""
        columns = ", ".join(self.columns)
        if self.kind == "unique":
            return f"Another row already has this {columns or 'value'}."
        if self.kind == "foreign_key":
            return f"{columns or 'A reference'} does not refer to an existing row (or is still referred to)."
        if self.kind == "not_null":
            return f"{columns or 'A required column'} cannot be null."
        if self.kind == "check":
            return f"The check {self.constraint or ''} failed.".replace("  ", " ")
        return "The change conflicts with the data already stored."


def _driver_error(error: sa_exc.DBAPIError) -> Any:
    """The driver's own exception; async adapters (asyncpg, aiomysql) keep it as the cause."""
    orig: Any = error.orig
    for _ in range(3):
        # SQLAlchemy's asyncpg adapter copies the SQLSTATE but not the constraint's name.
        adapter = type(orig).__module__.startswith("sqlalchemy.")
        if not adapter and (getattr(orig, "sqlstate", None) or _mysql_code(orig) is not None):
            return orig
        cause = getattr(orig, "__cause__", None)
        if cause is None:
            break
        orig = cause
    return error.orig


def _mysql_code(orig: Any) -> int | None:
    """The server's error number in a MySQL/MariaDB driver's exception."""
    args = getattr(orig, "args", ())
    if _is_mysql(orig) and args and isinstance(args[0], int):
        return args[0]
    return None


def _is_mysql(orig: Any) -> bool:
    return type(orig).__module__.split(".")[0] in ("pymysql", "MySQLdb", "asyncmy", "mysql")


class ConflictError(HTTPException):
    """A 409: a write broke a constraint (a unique value taken, a reference to nothing...).

    The database battery raises it for SQLAlchemy's ``IntegrityError``, so
    ``@app.exception_handler(409)`` or ``@app.exception_handler(ConflictError)`` can answer
    it. The default body adds ``constraint``, ``kind`` (``unique``, ``foreign_key``,
    ``not_null``, ``check``) and ``columns``, never the offending values.

    Attributes:
        info: what the error said about the constraint.
    """

    def __init__(self, info: ConstraintInfo) -> None:
        self.info = info
        extra = {"constraint": info.constraint, "kind": info.kind, "columns": info.columns}
        super().__init__(409, info.detail(), title="Conflict", extra=extra)


class DatabaseUnavailable(HTTPException):
    """A 503 with ``Retry-After``: the database could not be reached (or timed out).

    The database battery raises it for SQLAlchemy's operational and connection errors
    that mean an outage, so ``@app.exception_handler(503)`` can answer it.
    """

    def __init__(self, detail: str = "The database is unavailable; try again shortly.") -> None:
        super().__init__(503, detail, headers={"Retry-After": RETRY_AFTER})


def describe_integrity_error(error: sa_exc.IntegrityError, metadata: MetaData) -> ConstraintInfo:
    """The kind of constraint that failed (``unique``, ``foreign_key``, ``not_null``,
    ``check``), its name and its columns, read from the driver's error and the metadata."""
    reported = _read_driver_error(_driver_error(error))
    kind = _KINDS.get(reported.code, "integrity")
    constraint, table, columns = reported.constraint, reported.table, list(reported.columns)
    # What the driver leaves out, the metadata often knows.
    if constraint and not columns:
        columns = _columns_of(metadata, constraint, table)
    if kind == "foreign_key" and not columns:
        columns = _foreign_key_columns(metadata, error.statement)
    if kind == "unique" and columns and not constraint:
        constraint = _unique_name(metadata, table, columns)
    return ConstraintInfo(kind, constraint, table, columns)


class _Reported(NamedTuple):
    """What a driver's integrity error says: its code (a key of ``_KINDS``) and the
    constraint, table and columns it names."""

    code: Any = None
    constraint: str | None = None
    table: str | None = None
    columns: Sequence[str] = ()


def _read_driver_error(orig: Any) -> _Reported:
    diag = getattr(orig, "diag", None)  # psycopg keeps the fields apart, asyncpg on the error
    if diag is not None:
        return _from_postgres(orig, diag)
    mysql_code = _mysql_code(orig)
    if mysql_code is not None:
        message = str(orig.args[1]) if len(orig.args) > 1 else str(orig)
        constraint, columns = _parse_mysql(message)
        return _Reported(mysql_code, constraint, None, columns)
    if getattr(orig, "sqlstate", None):
        return _from_postgres(orig, orig)
    return _parse_sqlite(str(orig))


def _from_postgres(orig: Any, fields: Any) -> _Reported:
    column = getattr(fields, "column_name", None)
    return _Reported(
        getattr(orig, "sqlstate", None),
        getattr(fields, "constraint_name", None),
        getattr(fields, "table_name", None),
        [column] if column else [],
    )


def _parse_sqlite(message: str) -> _Reported:
    # sqlite3 has no error codes; its messages name the table and columns, or a CHECK's name.
    found = re.search(r"(UNIQUE|NOT NULL|CHECK) constraint failed: (.+)$", message)
    if found is None:
        return _Reported("FOREIGN KEY" if "FOREIGN KEY constraint failed" in message else None)
    code, named = found.group(1), found.group(2)
    if code == "CHECK":
        return _Reported(code, constraint=named.strip())
    pairs = [p.strip().rsplit(".", 1) for p in named.split(",")]
    table = pairs[0][0] if len(pairs[0]) == 2 else None
    return _Reported(code, table=table, columns=[p[-1] for p in pairs])


def _parse_mysql(message: str) -> tuple[str | None, list[str]]:
    key = re.search(r"for key '([^']+)'", message)
    if key:
        return key.group(1).rsplit(".", 1)[-1], []
    fk = re.search(r"CONSTRAINT `([^`]+)` FOREIGN KEY \(([^)]*)\)", message)
    if fk:
        return fk.group(1), [c.strip(" `") for c in fk.group(2).split(",")]
    column = re.search(r"Column '([^']+)'|Field '([^']+)'", message)
    if column:
        return None, [column.group(1) or column.group(2)]
    check = re.search(r"[Cc]heck constraint '([^']+)'|CONSTRAINT `([^`]+)` failed", message)
    if check:
        return check.group(1) or check.group(2), []
    return None, []


def _tables(metadata: MetaData, table: str | None) -> list[Table]:
    return [t for t in metadata.tables.values() if table is None or t.name == table]


def _columns_of(metadata: MetaData, name: str, table: str | None) -> list[str]:
    for candidate in _tables(metadata, table):
        for constraint in candidate.constraints:
            if constraint.name == name:
                return [c.name for c in getattr(constraint, "columns", ())]
        for index in candidate.indexes:
            if index.name == name:
                return [c.name for c in index.columns]
    return []


def _unique_name(metadata: MetaData, table: str | None, columns: list[str]) -> str | None:
    for candidate in _tables(metadata, table):
        for constraint in candidate.constraints:
            if (
                isinstance(constraint, UniqueConstraint)
                and [c.name for c in constraint.columns] == columns
            ):
                return str(constraint.name) if constraint.name else None
        for index in candidate.indexes:
            if index.unique and [c.name for c in index.columns] == columns:
                return str(index.name) if index.name else None
    return None


def _foreign_key_columns(metadata: MetaData, statement: str | None) -> list[str]:
    # SQLite does not say which reference failed; when the statement's table has a
    # single foreign key, it is that one.
    if not statement:
        return []
    found = re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+[`\"]?(\w+)", statement, re.I)
    if not found:
        return []
    table = metadata.tables.get(found.group(1))
    if table is None:
        return []
    keys = [c for c in table.constraints if isinstance(c, ForeignKeyConstraint)]
    if len(keys) == 1:
        return [c.name for c in keys[0].columns]
    return []


def is_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database cannot be reached or is overloaded (a 503),
    as opposed to a bug in the query (a 500)."""
    if isinstance(error, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    orig = _driver_error(error)
    mysql_code = _mysql_code(orig)
    if mysql_code is not None:  # some codes are SQL errors
        return mysql_code in _MYSQL_UNAVAILABLE
    module = type(orig).__module__
    if module.startswith("sqlite3") or "sqlite" in module:
        text = str(orig).lower()
        return any(marker in text for marker in _SQLITE_UNAVAILABLE)
    return True


def is_missing_table(error: BaseException) -> bool:
    """True when ``error`` says that a table the statement uses does not exist."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = _driver_error(error)
    code = getattr(orig, "sqlstate", None)
    if code is None:
        code = _mysql_code(orig)
    if code is not None:
        return code in _UNDEFINED_TABLE
    return "no such table" in str(orig).lower()  # sqlite3 has no error codes to go by


def install_error_handlers(app: App, metadata: MetaData) -> None:
    """Answer integrity errors with a 409 problem and an unreachable database with a 503."""

    async def conflict(request: Request, exc: sa_exc.IntegrityError) -> Response:
        info = describe_integrity_error(exc, metadata)
        logger.info(
            "Integrity error on %s %s: %s",
            printable(request.method),
            printable(request.path),
            printable(exc.orig),
        )
        error = ConflictError(info)
        error.__cause__ = exc
        return await app.error_response(request, error)

    async def unavailable(request: Request, exc: Exception) -> Response:
        if not is_unavailable(exc):
            raise exc  # a bug, not an outage: the ordinary 500
        logger.error(
            "Database unavailable on %s %s: %s",
            printable(request.method),
            printable(request.path),
            printable(exc),
            exc_info=False,
        )
        error = DatabaseUnavailable()
        error.__cause__ = exc
        return await app.error_response(request, error)

    app.add_exception_handler(sa_exc.IntegrityError, conflict)
    for error_class in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
    ):
        app.add_exception_handler(error_class, unavailable)
    # A connection that died mid-request may surface as a generic DBAPIError.
    app.add_exception_handler(sa_exc.DBAPIError, unavailable)
