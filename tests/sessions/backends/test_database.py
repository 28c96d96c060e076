"""``request.session`` in the database: App(database=url, sessions="database")."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import MetaData, Table, select, update

from nightowl import App, Request
from nightowl.db import NAMING_CONVENTION, Database, Session
from nightowl.db.migrations import Migrations
from nightowl.exceptions import ImproperlyConfigured
from nightowl.sessions.backends.database import DatabaseSessionBackend, SessionRecord
from nightowl.testing import TestClient
from tests.db.models import Member

KEY = "a-test-secret-key-that-is-long-enough"
TABLE = cast("Table", SessionRecord.__table__)


def _routes(app: App) -> App:
    @app.get("/")
    def show(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.get("/set")
    async def set_value(request: Request, key: str, value: str) -> dict[str, Any]:
        request.session[key] = value
        return dict(request.session)

    @app.get("/logout")
    def logout(request: Request) -> dict[str, str]:
        request.session.clear()
        return {"bye": "now"}

    @app.get("/login")
    def login(request: Request) -> dict[str, str]:
        request.session.cycle_id()
        return {"hello": "again"}

    return app


@pytest.fixture
def session_table(database_url: str) -> Iterator[Database]:
    """The ``nightowl_session`` table, created for one test and dropped after it."""
    database = Database(database_url)
    TABLE.create(database.engine, checkfirst=True)
    try:
        yield database
    finally:
        TABLE.drop(database.engine, checkfirst=True)
        database.close()


@pytest.fixture
def build(session_table: Database) -> Iterator[Callable[..., App]]:
    """``build(**options)``: an app keeping its sessions in the test's database."""
    apps: list[App] = []

    def make(**options: Any) -> App:
        options.setdefault("database", str(session_table.url))
        options.setdefault("sessions", "database")
        app = _routes(App(secret_key=KEY, **options))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.database.close()


def _rows(database: Database) -> dict[str, dict[str, Any]]:
    with database.engine.connect() as connection:
        rows = connection.execute(select(TABLE.c.id, TABLE.c.data))
        return {row.id: json.loads(row.data) for row in rows}


def _id(cookie: str) -> str:
    return cookie.rsplit(".", 1)[0]


def test_only_an_id_is_in_the_cookie(build: Callable[..., App], session_table: Database) -> None:
    with TestClient(build()) as client:
        assert client.get("/set?key=user&value=ann@example.com").status_code == 200
        assert client.get("/set?key=theme&value=dark").status_code == 200
        assert client.get("/").json() == {"user": "ann@example.com", "theme": "dark"}
        cookie = client.cookies["session"]
    assert "ann" not in cookie
    assert _rows(session_table) == {_id(cookie): {"user": "ann@example.com", "theme": "dark"}}


def test_either_order_of_options_and_a_backend_object(
    build: Callable[..., App], session_table: Database
) -> None:
    reversed_order = build(sessions="database", database=str(session_table.url))
    database = Database(session_table.url)
    by_hand = build(database=database, sessions=DatabaseSessionBackend(database))
    for app in (reversed_order, by_hand):
        with TestClient(app) as client:
            client.get("/set?key=n&value=1")
            assert client.get("/").json() == {"n": "1"}
    assert len(_rows(session_table)) == 2


def test_tampered_or_unknown_id_is_an_empty_session(
    build: Callable[..., App], session_table: Database
) -> None:
    with TestClient(build()) as client:
        client.get("/set?key=user&value=ann")
        cookie = client.cookies["session"]
        session_id, signature = cookie.rsplit(".", 1)
        forged = f"{session_id[:-1]}{'A' if session_id[-1] != 'A' else 'B'}.{signature}"
        client.cookies.clear()
        assert client.get("/", headers={"Cookie": f"session={forged}"}).json() == {}
        assert client.get("/", headers={"Cookie": "session=garbage"}).json() == {}
        # A correctly signed id of a session that does not exist is not adopted.
        backend = DatabaseSessionBackend(session_table)
        backend.bind(KEY)
        unknown = backend.sign_id("made-up-id")
        client.cookies.set("session", unknown)
        response = client.get("/set?key=user&value=mallory")
        assert _id(response.cookies["session"]) != "made-up-id"
    assert "made-up-id" not in _rows(session_table)


def test_expired_sessions_are_ignored_and_purged(
    build: Callable[..., App], session_table: Database
) -> None:
    app = build()
    with TestClient(app) as client:
        client.get("/set?key=user&value=ann")
        old = _id(client.cookies["session"])
        with session_table.engine.begin() as connection:
            connection.execute(
                update(TABLE).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert client.get("/").json() == {}
        assert old in _rows(session_table)  # ignored, not yet deleted

    async def save_and_purge() -> int:
        backend = DatabaseSessionBackend(session_table, purge_interval=0)
        backend.bind(KEY)
        try:
            await backend.save(None, {"user": "bo"}, 60)  # deletes expired rows too
            return await backend.purge()
        finally:
            await session_table.dispose_async()

    assert asyncio.run(save_and_purge()) == 0
    rows = _rows(session_table)
    assert old not in rows
    assert list(rows.values()) == [{"user": "bo"}]


def test_clear_and_cycle_id(build: Callable[..., App], session_table: Database) -> None:
    with TestClient(build()) as client:
        client.get("/set?key=user&value=ann")
        first = _id(client.cookies["session"])
        client.get("/login")
        second = _id(client.cookies["session"])
        assert second != first
        assert _rows(session_table) == {second: {"user": "ann"}}
        response = client.get("/logout")
        assert "Max-Age=0" in response.headers["set-cookie"]
        assert client.get("/").json() == {}
    assert _rows(session_table) == {}


def test_apps_sharing_the_database_share_sessions(build: Callable[..., App]) -> None:
    with TestClient(build()) as one, TestClient(build()) as two:
        one.get("/set?key=cart&value=3 books")
        two.cookies.set("session", one.cookies["session"])
        assert two.get("/").json() == {"cart": "3 books"}
        two.get("/set?key=cart&value=4 books")
        assert one.get("/").json() == {"cart": "4 books"}


def test_unreachable_database_is_a_503(build: Callable[..., App]) -> None:
    app = build(database="postgresql://postgres@127.0.0.1:1/test")
    with TestClient(app) as client:
        response = client.get("/set?key=a&value=b")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"


def test_without_a_database_the_app_refuses_to_start() -> None:
    app = App(sessions="database", secret_key=KEY)
    with pytest.raises(ImproperlyConfigured, match=r"add App\(database=\.\.\.\)"), TestClient(app):
        pass


def test_migrations_create_the_table_when_database_sessions_are_on(
    empty_database_url: str, tmp_path: Path
) -> None:
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    plain = Database(empty_database_url, metadata=metadata, migrations=tmp_path / "m1")
    App(database=plain)
    assert Migrations(plain).make("nothing") is None  # no database sessions, no table
    plain.close()

    database = Database(empty_database_url, metadata=metadata, migrations=tmp_path / "m2")
    App(database=database, sessions="database", secret_key=KEY)
    migrations = Migrations(database)
    made = migrations.make("sessions")
    assert made is not None
    assert "create_table('nightowl_session'" in made.read_text()
    assert "ix_nightowl_session_expires_at" in made.read_text()
    migrations.migrate()
    assert migrations.make() is None
    migrations.migrate("zero")
    database.close()


FIX = "run `nightowl makemigrations` then `nightowl migrate` to create it"


def test_missing_table_is_a_503_with_the_fix_in_the_log(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _check_missing_table(database_url, caplog)


def test_missing_table_on_mariadb(mariadb_url: str, caplog: pytest.LogCaptureFixture) -> None:
    _check_missing_table(mariadb_url, caplog)


def _check_missing_table(url: str, caplog: pytest.LogCaptureFixture) -> None:
    database = Database(url, metadata=MetaData())  # holds only the sessions' table
    TABLE.drop(database.engine, checkfirst=True)
    app = _routes(App(database=database, sessions="database", secret_key=KEY))
    backend = DatabaseSessionBackend(database)
    backend.bind(KEY)
    try:
        with TestClient(app) as client:
            startup = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
            assert any("nightowl_session table" in m and FIX in m for m in startup), startup
            caplog.clear()

            assert client.get("/").json() == {}  # pages that do not save the session work
            saving = client.get("/set?key=user&value=ann")
            assert saving.status_code == 503
            assert saving.headers["content-type"] == "application/problem+json"
            assert saving.json()["title"] == "Service Unavailable"
            assert "nightowl_session" not in saving.text  # no SQL, no table names
            assert caplog.messages == [
                "Could not save request.session: the nightowl_session table does not exist; "
                f"{FIX} (in tests, `database.create_all()`)."
            ]
            assert caplog.records[0].exc_info is None  # one line, no traceback

            caplog.clear()
            client.cookies.set("session", backend.sign_id("an-id-from-before"))
            assert client.get("/").json() == {}  # a session it cannot read is an empty one
            assert "Could not read request.session" in caplog.text
            client.run(backend.delete("an-id-from-before"))  # nothing to delete: no error

            database.create_all()
            assert client.get("/set?key=user&value=ann").json() == {"user": "ann"}
            assert client.get("/").json() == {"user": "ann"}
        caplog.clear()
        with TestClient(app):
            assert "nightowl_session" not in caplog.text  # the table is there: no warning
    finally:
        database.drop_all()
        database.close()


def test_an_unreachable_database_only_warns_at_startup(caplog: pytest.LogCaptureFixture) -> None:
    app = App(
        database="postgresql://postgres@127.0.0.1:1/test", sessions="database", secret_key=KEY
    )
    with TestClient(app):
        pass
    assert "Could not check that the nightowl_session table exists" in caplog.text
    app.state.database.close()


def test_sessions_are_rolled_back_with_the_test_session(
    build: Callable[..., App], session_table: Database, database: Database
) -> None:
    app = build()  # its own Database, on the URL of ``database`` (which made the tables)

    @app.post("/members")
    def join(request: Request, db: Session) -> None:
        db.add(Member(email="ann@example.com", name="Ann"))
        db.flush()  # on SQLite, the test's transaction now holds the write lock...
        request.session["member"] = "ann"  # ...and saving the session must not wait for it

    with app.state.database.test_session(), TestClient(app) as client:
        assert client.post("/members").status_code == 200
        assert client.get("/").json() == {"member": "ann"}
        assert client.get("/login").status_code == 200  # a new id: a delete and an insert
        assert client.get("/").json() == {"member": "ann"}
    assert _rows(session_table) == {}
    with database.session() as session:
        assert session.scalars(select(Member)).all() == []


@pytest.mark.parametrize("order", ["database first", "sessions first"])
def test_a_join_reads_a_row_with_the_session(
    build: Callable[..., App], session_table: Database, order: str
) -> None:
    """``backend.join(...)``: the row whose id the session keeps comes in the same query,
    as ``request.session.joined[name]``, ``(the id, the row)``; ``None`` for no row."""
    from sqlalchemy import Column, Integer, String

    from nightowl.sessions import SessionJoin, session_backend

    people = Table(
        "joined_person",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("email", String(50)),
    )
    people.create(session_table.engine)
    try:
        with session_table.engine.begin() as connection:
            connection.execute(people.insert().values(id=7, email="ann@example.com"))
        url = str(session_table.url)
        if order == "database first":
            app = build(database=url, sessions="database")
        else:
            app = build(sessions="database", database=url)
        backend = session_backend(app)
        assert backend is not None
        assert backend.join(
            SessionJoin("person", "person_id", people, people.c.id, [people.c.email])
        )

        @app.get("/person")
        def person(request: Request) -> dict[str, Any]:
            found = request.session.joined.get("person")
            return {"joined": list(found) if found is not None else None}

        statements: list[str] = []
        with TestClient(app) as client:
            client.get("/set?key=person_id&value=7")
            assert client.get("/person").json()["joined"] == ["7", ["ann@example.com"]]
            client.get("/set?key=person_id&value=8")
            assert client.get("/person").json()["joined"] == ["8", None]
            client.get("/logout")
            assert client.get("/person").json()["joined"] is None  # no session: no read

            def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
                statements.append(" ".join(statement.split()))

            from sqlalchemy import event

            engine = app.state.database.async_engine.sync_engine
            client.get("/set?key=person_id&value=7")
            event.listen(engine, "before_cursor_execute", record)
            try:
                assert client.get("/person").json()["joined"] == ["7", ["ann@example.com"]]
            finally:
                event.remove(engine, "before_cursor_execute", record)
        assert len(statements) == 1, statements
        assert "FROM nightowl_session LEFT OUTER JOIN joined_person ON" in statements[0]
    finally:
        people.drop(session_table.engine)


def test_the_cookie_backend_does_not_join() -> None:
    from sqlalchemy import Column, Integer

    from nightowl.sessions import SessionJoin, session_backend

    app = _routes(App(secret_key=KEY))
    backend = session_backend(app)
    assert backend is not None
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    assert backend.join(SessionJoin("t", "t_id", table, table.c.id, [])) is False

    @app.get("/joined")
    def joined(request: Request) -> Any:
        return dict(request.session.joined)

    with TestClient(app) as client:
        client.get("/set?key=t_id&value=1")
        assert client.get("/joined").json() == {}
