"""The database of an app: engines, session factories, and the per-request session."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, MetaData
from sqlalchemy import orm as sa_orm
from sqlalchemy.engine import URL, Connection, Engine, Result
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from nightowl.db._engine import Engines, engine_options
from nightowl.db._model import Model
from nightowl.db._session import (
    NO_OPTIONS,
    AsyncSession,
    Session,
    prebuffered,
    run_in_bridge,
)
from nightowl.exceptions import ImproperlyConfigured
from nightowl.requests import Request

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["DEFAULT_URL", "Database", "database_from"]

logger = logging.getLogger("nightowl.db")

#: The database used when neither the app, its settings nor the environment names one.
DEFAULT_URL = "sqlite:///app.db"


class Database:
    """A database: one URL, a sync and an async engine, and the request's sessions.

    ``App(database=url)`` builds one and installs it; ``Database(url).install(app)``
    does the same by hand. Outside requests, use :meth:`session` and
    :meth:`async_session`.

    Args:
        url: a SQLAlchemy URL (``sqlite:///app.db``, ``postgresql://user@host/db``,
            ``mysql://root@host/db``); the driver is picked per mode.
        pool_size, max_overflow, pool_timeout, pool_recycle: the connection pool's size,
            extra connections allowed beyond it, seconds to wait for a free one, and
            seconds after which a connection is replaced (SQLAlchemy's defaults when ``None``).
        pool_pre_ping: check that a pooled connection is alive before using it: a number
            of seconds (10 by default) pings only connections that sat idle that long,
            ``True`` pings on every checkout (a round trip or three per request),
            ``False`` never (a dead connection is then a 503 once, and the pool recovers).
        echo: log every SQL statement.
        connect_args: extra arguments for the driver's ``connect()``.
        metadata: the tables this database holds (``Model.metadata`` by default).
        migrations: the folder of the project's migrations (``nightowl makemigrations``
            creates it); a relative path is taken from the current folder.
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float | None = None,
        pool_recycle: int | None = None,
        pool_pre_ping: bool | float = 10.0,
        echo: bool = False,
        connect_args: dict[str, Any] | None = None,
        metadata: MetaData | None = None,
        migrations: str | os.PathLike[str] = "migrations",
    ) -> None:
        self._engines = Engines(
            url,
            engine_options(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=pool_timeout,
                pool_recycle=pool_recycle,
                pool_pre_ping=pool_pre_ping is True,
                echo=echo,
                connect_args=connect_args,
            ),
            ping_idle_after=None if isinstance(pool_pre_ping, bool) else float(pool_pre_ping),
        )
        self.metadata = metadata if metadata is not None else Model.metadata
        self.migrations = Path(migrations)
        self._sessionmaker: sa_orm.sessionmaker[Session] | None = None
        self._async_sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._test_sessions: _JoinedSessions | None = None
        self._battery_migrations: dict[str, Path] = {}
        self._migrated_hooks: list[Callable[[Database], object]] = []

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def url(self) -> URL:
        """The database URL, as given (the password is kept; hide it when printing)."""
        return self._engines.url

    @property
    def backend(self) -> str:
        """``sqlite``, ``postgresql``, ``mysql`` or ``mariadb``."""
        return self._engines.backend

    @property
    def engine(self) -> Engine:
        """The sync SQLAlchemy engine, created on first use."""
        return self._engines.engine

    @property
    def async_engine(self) -> AsyncEngine:
        """The async SQLAlchemy engine, created on first use (it belongs to one event loop)."""
        return self._engines.async_engine

    def session(self) -> Session:
        """A new sync session; use it as a context manager: ``with db.session() as s:``."""
        if self._test_sessions is not None:
            return self._test_sessions.sync()
        if self._sessionmaker is None:
            self._sessionmaker = sa_orm.sessionmaker(
                self.engine, class_=Session, expire_on_commit=False
            )
        return self._sessionmaker()

    def async_session(self) -> AsyncSession:
        """A new async session: ``async with db.async_session() as s:``."""
        if self._test_sessions is not None:
            return self._test_sessions.async_()
        if self._async_sessionmaker is None:
            self._async_sessionmaker = async_sessionmaker(
                self.async_engine, class_=AsyncSession, expire_on_commit=False
            )
        return self._async_sessionmaker()

    @property
    def in_test_session(self) -> bool:
        """True inside :meth:`test_session`: sessions then share the test's transaction."""
        return self._test_sessions is not None

    @contextmanager
    def test_session(self) -> Iterator[Session]:
        """A session for one test, whose work is rolled back at the end of the block.

        While the block runs, every session of this database, sync and async, the
        requests' :class:`Session` and :class:`AsyncSession` included, works inside one
        transaction on one connection, and ``commit()`` only releases a savepoint: the
        test sees what its requests wrote and leaves nothing behind.

        Async sessions run on that connection too, through the sync driver (psycopg,
        pysqlite), so that sync and async handlers share the transaction; in the block,
        ``await session.connection()`` is not available.

        ::

            @pytest.fixture
            def db():
                with app.state.database.test_session() as session:
                    yield session
        """
        with self.engine.connect() as connection, _rolled_back(connection, self.backend):
            previous = self._test_sessions
            self._test_sessions = _JoinedSessions(connection)
            try:
                with self.session() as session:
                    yield session
            finally:
                self._test_sessions = previous

    def create_all(self) -> None:
        """Create the tables that do not exist yet (for tests and prototypes; use migrations)."""
        self.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        """Drop every table of :attr:`metadata`."""
        self.metadata.drop_all(self.engine)

    async def dispose_async(self) -> None:
        """Close the async engine's connections (called when the app shuts down)."""
        await self._engines.dispose_async()
        self._async_sessionmaker = None

    async def shutdown(self) -> None:
        """Close both engines' pooled connections (the app calls this when it stops)."""
        await self.dispose_async()
        # Inside test_session() (a TestClient closed in the block), disposing would replace
        # the pool, and the test's connection would go back to the old one, never closed.
        if self._test_sessions is None:
            await asyncio.to_thread(self.dispose)

    def dispose(self) -> None:
        """Close the sync engine's pooled connections."""
        self._engines.dispose()

    def close(self) -> None:
        """Close every connection, and drop an in-memory database."""
        self._engines.close()

    # -- batteries' migrations -----------------------------------------------------------------
    def add_migrations(self, label: str, folder: str | os.PathLike[str]) -> None:
        """Add a battery's migrations to the project's history.

        ``folder`` holds the battery's migration files (no ``env.py``): each has a
        ``revision`` id starting with ``label`` (``auth_0001_initial``), and the first
        one ``branch_labels = ("auth",)``. ``nightowl migrate`` applies them with the
        project's, ``showmigrations`` lists them, and ``makemigrations`` leaves their
        tables alone: a table belongs to a battery when its ``info`` says so,
        ``Table(..., info={"migrations": "auth"})`` (``__table_args__`` on a model).
        The project's next migration records that it comes after the battery's latest,
        so a foreign key to a battery's table always finds it.

        ::

            database.add_migrations("auth", Path(__file__).parent / "migrations")
        """
        if not label.isidentifier():
            raise ImproperlyConfigured(f"A migrations label must be an identifier, not {label!r}.")
        path = Path(folder)
        if not path.is_dir():
            raise ImproperlyConfigured(f"The {label!r} migrations folder {path} does not exist.")
        self._battery_migrations[label] = path

    @property
    def battery_migrations(self) -> Mapping[str, Path]:
        """The folders added by :meth:`add_migrations`, by label."""
        return dict(self._battery_migrations)

    def battery_tables(self) -> frozenset[str]:
        """The tables whose migrations a battery ships (``info={"migrations": label}``)."""
        return frozenset(
            table.name for table in self.metadata.tables.values() if table.info.get("migrations")
        )

    def on_migrated(self, hook: Callable[[Database], object]) -> None:
        """Call ``hook(database)`` after ``nightowl migrate`` (or ``Migrations.migrate()``)
        brought the database up, in the same process.

        For data that follows the schema, such as the auth battery's permissions for
        every model. Hooks run in the order they were added; an error stops the command.
        """
        self._migrated_hooks.append(hook)

    def run_migrated_hooks(self) -> None:
        """Run the hooks added with :meth:`on_migrated` (the migration commands call this)."""
        for hook in self._migrated_hooks:
            hook(self)

    # -- requests -----------------------------------------------------------------------------
    def install(self, app: App) -> Database:
        """Make ``app`` use this database.

        Parameters annotated :class:`Session` (sync handlers) or :class:`AsyncSession`
        (async handlers) get the request's session; integrity errors answer 409, an
        unreachable database 503; the async engine's connections close on shutdown;
        ``App(sessions="database")`` keeps ``request.session`` in this database (see
        :mod:`nightowl.sessions.backends.database`).
        """
        from nightowl.db._errors import install_error_handlers

        app.state.database = self
        app.provide(Session, self.request_session)
        app.provide(sa_orm.Session, self.request_session)
        app.provide(AsyncSession, self.request_async_session, runner=run_in_bridge)
        app.provide(sa_asyncio.AsyncSession, self.request_async_session, runner=run_in_bridge)
        install_error_handlers(app, self.metadata)
        app.on_startup(self.check_migrations)
        app.on_shutdown(self.shutdown)
        return self

    def check_migrations(self) -> None:
        """Log a warning naming the migrations not yet applied to the database.

        The app runs this when it starts. It does nothing when the project has no
        migrations folder, and only warns (never fails) when the database cannot be read.
        """
        if not (self.migrations / "env.py").is_file():
            return
        from nightowl.db.migrations import warn_unapplied

        warn_unapplied(self)

    def request_session(self, request: Request) -> Iterator[Session]:
        """The sync session of one request: flushed when the handler returns (so new
        objects have their ids in the response), committed before a success response is
        sent, rolled back on an exception or an error status, always closed."""
        session = self.session()
        hooks = _SyncRequestHooks(session)
        request.after_handler(hooks.flush)
        request.before_response(hooks.finish)
        try:
            yield session
        except BaseException:
            _quietly(session.rollback)
            raise
        finally:
            _quietly(session.close)

    async def request_async_session(self, request: Request) -> AsyncIterator[AsyncSession]:
        """The async session of one request (see :meth:`request_session`)."""
        session = self.async_session()
        sync_session = session.sync_session
        hooks = _AsyncRequestHooks(session)
        request.after_handler(hooks.flush)
        request.before_response(hooks.finish)
        try:
            yield session
        except BaseException:
            if sync_session.in_transaction():  # rolling back no transaction does nothing
                try:
                    await session.rollback()
                except Exception:
                    logger.warning("Rolling back the request's session failed", exc_info=True)
            raise
        finally:
            try:
                if sync_session.in_transaction():
                    await session.close()
                else:
                    # No transaction, so no connection: closing only forgets the objects,
                    # with no I/O, so it needs no trip through SQLAlchemy's greenlet bridge.
                    sync_session.close()
            except Exception:
                logger.warning("Closing the request's session failed", exc_info=True)


@contextmanager
def _rolled_back(connection: Connection, backend: str) -> Iterator[None]:
    """One transaction on ``connection`` around the block, rolled back at its end."""
    driver = connection.connection.driver_connection
    sqlite = backend == "sqlite"
    if sqlite:
        # pysqlite starts transactions only before DML, so a savepoint would be
        # the outermost transaction and releasing it would commit: BEGIN ourselves.
        level = driver.isolation_level  # type: ignore[union-attr]
        driver.isolation_level = None  # type: ignore[union-attr]
    transaction = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        transaction.rollback()
        if sqlite:
            driver.isolation_level = level  # type: ignore[union-attr]


class _JoinedSessions:
    """The session factories of :meth:`Database.test_session`: every session, sync or
    async, joins the transaction of one connection, and commits release savepoints."""

    __slots__ = ("async_", "sync")

    def __init__(self, connection: Connection) -> None:
        self.sync = sa_orm.sessionmaker(
            connection,
            class_=Session,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

        def on_connection(bind: Any = None, **options: Any) -> sa_orm.Session:
            # An AsyncSession takes only async binds: its sync session gets the connection here.
            return _JoinedAsyncSession.sync_session_class(bind=connection, **options)

        self.async_ = async_sessionmaker(
            class_=_JoinedAsyncSession,
            sync_session_class=on_connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )


class _JoinedAsyncSession(AsyncSession):
    """An :class:`AsyncSession` on the sync connection of :meth:`Database.test_session`.

    One transaction lives on one connection, of one driver, and sync handlers (in
    threads) cannot use an async driver's: so the async sessions of a test use the sync
    driver's, in SQLAlchemy's greenlet bridge as usual, where each query simply blocks.
    """

    async def execute(
        self,
        statement: Executable,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] = NO_OPTIONS,
        bind_arguments: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Result[Any]:
        """``AsyncSession.execute()``, without its last step, which closes the async
        driver's cursor: a sync driver's cursor has no such method, and needs no bridge
        to read its rows."""
        options = prebuffered(execution_options)

        def execute(session: sa_orm.Session) -> Result[Any]:
            return session.execute(
                statement, params, execution_options=options, bind_arguments=bind_arguments, **kw
            )

        return await self.run_sync(execute)

    async def connection(
        self,
        bind_arguments: dict[str, Any] | None = None,
        execution_options: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> AsyncConnection:
        """Not available: the connection of the test is a sync one."""
        raise InvalidRequestError(
            "await session.connection() is not available inside Database.test_session(), "
            "where async sessions run on the test's sync connection; use "
            "await session.execute(...) or await session.run_sync(...) instead."
        )


def _nothing_to_commit(session: sa_orm.Session) -> bool:
    """True when ``commit()`` would send nothing: no transaction began, nothing to flush.

    (Committing such a session only begins and ends an empty transaction in Python.)
    """
    return not session.in_transaction() and not (session.new or session.dirty or session.deleted)


class _SyncRequestHooks:
    """The request hooks that flush and finish one request's sync session."""

    __slots__ = ("session",)

    def __init__(self, session: Session) -> None:
        self.session = session

    async def flush(self, _result: Any) -> None:
        if self.session.new:
            await asyncio.to_thread(self.session.flush)

    async def finish(self, response: Any) -> None:
        session = self.session
        if response.status_code < 400:
            if not _nothing_to_commit(session):
                await asyncio.to_thread(session.commit)
        elif session.in_transaction():  # rolling back nothing does nothing
            await asyncio.to_thread(session.rollback)


class _AsyncRequestHooks:
    """The request hooks that flush and finish one request's async session."""

    __slots__ = ("session",)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def flush(self, _result: Any) -> None:
        if self.session.sync_session.new:
            await self.session.flush()

    async def finish(self, response: Any) -> None:
        session = self.session
        if response.status_code < 400:
            if not _nothing_to_commit(session.sync_session):
                await session.commit()
        elif session.sync_session.in_transaction():  # rolling back nothing does nothing
            await session.rollback()


def _quietly(action: Any) -> None:
    # A connection that died mid-request fails its rollback too; the pool replaces it.
    try:
        action()
    except Exception:
        logger.warning("Cleaning up the request's session failed", exc_info=True)


def database_from(app: App, value: Any) -> Database:
    """The :class:`Database` that ``App(database=value)`` asks for.

    ``value`` is a URL, a mapping of :class:`Database` arguments, a :class:`Database`,
    or ``True``/``None`` to read ``database_url`` from the app's settings, then
    ``DATABASE_URL`` from the environment or the app's ``.env``, then fall back to
    :data:`DEFAULT_URL`.
    """
    if isinstance(value, Database):
        return value
    if isinstance(value, (str, URL)):
        return Database(value)
    if isinstance(value, Mapping):
        options = dict(value)
        if "url" not in options:
            options["url"] = _configured_url(app)
        return Database(**options)
    if value is True or value is None:
        return Database(_configured_url(app))
    raise ImproperlyConfigured(
        f"App(database=...) takes a URL, a mapping of options or a Database, not {value!r}."
    )


def _configured_url(app: App) -> str:
    settings = app.settings
    for name in ("database_url", "DATABASE_URL"):
        found = getattr(settings, name, None) if settings is not None else None
        if found:
            return str(found)
    env = getattr(app, "env", os.environ)  # the environment, then the app's .env
    return env.get("DATABASE_URL") or DEFAULT_URL
