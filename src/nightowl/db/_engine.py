"""One database URL, two engines: a sync one for sync handlers and an async one for async ones."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, create_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["async_url", "engine_options", "normalise_url", "sync_url"]

_SYNC_DRIVERS = {
    "sqlite": ("pysqlite",),
    "postgresql": ("psycopg", "psycopg2", "pg8000"),
    "mysql": ("pymysql", "mysqldb", "mysqlconnector"),
    "mariadb": ("pymysql", "mysqldb", "mysqlconnector"),
}
_ASYNC_DRIVERS = {
    "sqlite": ("aiosqlite",),
    "postgresql": ("asyncpg", "psycopg"),
    "mysql": ("aiomysql", "asyncmy"),
    "mariadb": ("aiomysql", "asyncmy"),
}
_DRIVER_MODULES = {
    "pysqlite": "sqlite3",
    "psycopg2": "psycopg2",
    "mysqldb": "MySQLdb",
    "mysqlconnector": "mysql.connector",
}
_EXTRAS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "db"}


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``, accepting ``postgres://`` (as Heroku and others spell it)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres",) or parsed.drivername.startswith("postgres+"):
        parsed = parsed.set(drivername="postgresql" + parsed.drivername[len("postgres") :])
    backend = parsed.get_backend_name()
    if backend not in _SYNC_DRIVERS:
        raise ImproperlyConfigured(
            f"Unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}; "
            "nightowl supports sqlite, postgresql, mysql and mariadb."
        )
    return parsed


def _installed(driver: str) -> bool:
    module = _DRIVER_MODULES.get(driver, driver)
    return importlib.util.find_spec(module) is not None


def _pick(url: URL, choices: dict[str, tuple[str, ...]], mode: str) -> URL:
    backend = url.get_backend_name()
    given = url.get_driver_name() if "+" in url.drivername else None
    candidates = choices[backend]
    if given in candidates:
        return url
    for driver in candidates:
        if _installed(driver):
            return url.set(drivername=f"{backend}+{driver}")
    raise ImproperlyConfigured(
        f"No {mode} driver for {backend} is installed (tried {', '.join(candidates)}): "
        f"pip install 'nightowl[{_EXTRAS[backend]}]'."
    )


def sync_url(url: str | URL) -> URL:
    """``url`` with a sync driver: psycopg for PostgreSQL, pymysql for MySQL/MariaDB."""
    return _pick(normalise_url(url), _SYNC_DRIVERS, "sync")


def async_url(url: str | URL) -> URL:
    """``url`` with an async driver: asyncpg (or psycopg), aiomysql, aiosqlite."""
    return _pick(normalise_url(url), _ASYNC_DRIVERS, "async")


def is_sqlite_memory(url: URL) -> bool:
    """True for ``sqlite://`` and ``sqlite:///:memory:``."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def engine_options(
    *,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    pool_timeout: float | None = None,
    pool_recycle: int | None = None,
    pool_pre_ping: bool = True,
    echo: bool = False,
    connect_args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``create_engine`` from nightowl's options (``None``: the default)."""
    options: dict[str, Any] = {"pool_pre_ping": pool_pre_ping, "echo": echo}
    for key, value in (
        ("pool_size", pool_size),
        ("max_overflow", max_overflow),
        ("pool_timeout", pool_timeout),
        ("pool_recycle", pool_recycle),
    ):
        if value is not None:
            options[key] = value
    if connect_args:
        options["connect_args"] = dict(connect_args)
    return options


class Engines:
    """The sync and async engines of one database, each created on first use.

    An in-memory SQLite URL becomes a named shared-cache memory database, so that the
    sync engine, the async engine and every pooled connection see the same tables.
    """

    def __init__(
        self, url: str | URL, options: dict[str, Any], *, ping_idle_after: float | None = None
    ) -> None:
        self.url = normalise_url(url)
        self.options = options
        self.ping_idle_after = ping_idle_after
        self._memory_keeper: sqlite3.Connection | None = None
        self._engine: Engine | None = None
        self._async_engine: AsyncEngine | None = None
        self._lock = threading.Lock()
        self._target = self.url
        if is_sqlite_memory(self.url):
            name = f"nightowl-{uuid.uuid4().hex}"
            self._target = self.url.set(
                database=f"file:{name}",
                query={"mode": "memory", "cache": "shared", "uri": "true"},
            )
            # The memory database lives while one connection to it is open.
            self._memory_keeper = sqlite3.connect(
                f"file:{name}?mode=memory&cache=shared", uri=True, check_same_thread=False
            )
            weakref.finalize(self, self._memory_keeper.close)

    @property
    def backend(self) -> str:
        """``sqlite``, ``postgresql``, ``mysql`` or ``mariadb``."""
        return self.url.get_backend_name()

    @property
    def engine(self) -> Engine:
        """The sync engine."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._create_sync()
        return self._engine

    @property
    def async_engine(self) -> AsyncEngine:
        """The async engine."""
        if self._async_engine is None:
            with self._lock:
                if self._async_engine is None:
                    self._async_engine = self._create_async()
        return self._async_engine

    def _kwargs(self, pool: type[Any]) -> dict[str, Any]:
        options = dict(self.options)
        if self._memory_keeper is not None:
            options["poolclass"] = pool
        return options

    def _create_sync(self) -> Engine:
        options = self._kwargs(QueuePool)
        if self.backend == "sqlite":
            # Sync handlers run in a thread pool: a pooled connection moves between threads.
            options["connect_args"] = {
                "check_same_thread": False,
                **options.get("connect_args", {}),
            }
        engine = create_engine(sync_url(self._target), **options)
        _configure(engine, self.backend, self.ping_idle_after)
        return engine

    def _create_async(self) -> AsyncEngine:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(async_url(self._target), **self._kwargs(AsyncAdaptedQueuePool))
        _configure(engine.sync_engine, self.backend, self.ping_idle_after)
        return engine

    def dispose(self) -> None:
        """Close the sync engine's pooled connections (the engine stays usable)."""
        if self._engine is not None:
            self._engine.dispose()

    async def dispose_async(self) -> None:
        """Close the async engine's pooled connections; they belong to the running loop."""
        engine, self._async_engine = self._async_engine, None
        if engine is not None:
            await engine.dispose()

    def close(self) -> None:
        """Dispose the sync engine and forget an in-memory database."""
        self.dispose()
        if self._memory_keeper is not None:
            self._memory_keeper.close()
            self._memory_keeper = None


def _configure(engine: Engine, backend: str, ping_idle_after: float | None) -> None:
    if ping_idle_after is not None and backend != "sqlite":
        _ping_when_idle(engine, ping_idle_after)
    if backend == "sqlite":
        from nightowl.db._sqlite_time import use_aware_datetimes

        event.listen(engine, "connect", _sqlite_pragmas)
        use_aware_datetimes(engine.dialect)
    # Some drivers (asyncpg) raise OSError when the server refuses the connection; make it
    # a DBAPI OperationalError so SQLAlchemy wraps it like every other driver does.
    event.listen(engine, "do_connect", _connect)


def _ping_when_idle(engine: Engine, seconds: float) -> None:
    """Ping a pooled connection on checkout only if it sat unused for ``seconds``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout (BEGIN, a statement and
    ROLLBACK on asyncpg: three round trips per request); connections in steady use
    are alive, and the ones a server or firewall may have dropped are the idle ones.
    """
    dialect = engine.dialect

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["nightowl_idle_since"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("nightowl_idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception:
            alive = False
        if not alive:
            # The pool discards this connection and checks out a fresh one.
            raise sa_exc.DisconnectionError("a pooled connection went stale while idle")

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    try:
        return dialect.connect(*cargs, **cparams)
    except (OSError, TimeoutError) as exc:
        raise dialect.loaded_dbapi.OperationalError(f"could not connect: {exc}") from exc
    except Exception as exc:
        if dialect.name == "sqlite" and "unable to open database file" in str(exc) and cargs:
            raise type(exc)(_sqlite_open_failed(str(cargs[0]))) from exc
        raise


def _sqlite_open_failed(database: str) -> str:
    """sqlite3's "unable to open database file", with the file and why."""
    path = Path(database.removeprefix("file:").split("?")[0]).absolute()
    folder = path.parent
    if not folder.is_dir():
        why = f"the folder {folder} does not exist"
    elif not os.access(folder, os.W_OK):
        why = f"the folder {folder} is not writable"
    else:
        why = "check that it is a SQLite file you may read and write"
    return f"unable to open database file {path} ({why})"
