"""Per-request sessions: commit on success, rollback on failure, always closed."""

import asyncio
import subprocess
import sys
import time
from typing import cast

import pytest
from sqlalchemy import NullPool, QueuePool, create_engine, event, func, select, text
from sqlalchemy.orm import selectinload

from nightowl import App, HTTPException
from nightowl.db import AsyncSession, Database, LazyLoadError, Session
from nightowl.testing import TestClient
from tests.db.models import Entry, Member, create_tables, drop_tables

MemberCreate = Member.schema("create")


def _emails(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Member.email).order_by(Member.id)))


def _add(database: Database, email: str = "ann@example.com") -> int:
    with database.session() as session:
        member = Member(email=email, name="Ann")
        session.add(member)
        session.commit()
        return member.id


def test_sync_handler_commits_on_success(app: App, database: Database) -> None:
    @app.post("/members", status_code=201)
    def create(data: MemberCreate, db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        db.flush()
        return member

    with TestClient(app) as client:
        response = client.post("/members", json={"email": "ann@example.com", "name": "Ann"})
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ann@example.com"
    assert body["status"] == "active"
    assert isinstance(body["id"], int)
    assert "password_hash" not in body
    assert _emails(database) == ["ann@example.com"]
    assert cast(QueuePool, database.engine.pool).checkedout() == 0


def test_async_handler_commits_on_success(app: App, database: Database) -> None:
    @app.post("/members", status_code=201)
    async def create(data: MemberCreate, db: AsyncSession) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        await db.flush()
        return member

    with TestClient(app) as client:
        response = client.post("/members", json={"email": "bo@example.com", "name": "Bo"})
        assert response.status_code == 201
        assert response.json()["name"] == "Bo"
        assert app.state.database.async_engine.pool.checkedout() == 0
    assert _emails(database) == ["bo@example.com"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("failure", ["http_exception", "error_status", "crash"])
def test_failures_roll_back(app: App, database: Database, mode: str, failure: str) -> None:
    def fail() -> object:
        if failure == "http_exception":
            raise HTTPException(403, "no")
        if failure == "error_status":
            return {"error": "bad"}, 400
        raise RuntimeError("boom")

    if mode == "sync":

        @app.post("/members")
        def create(db: Session) -> object:
            db.add(Member(email="x@example.com", name="X"))
            db.flush()
            return fail()
    else:

        @app.post("/members")
        async def create_async(db: AsyncSession) -> object:
            db.add(Member(email="x@example.com", name="X"))
            await db.flush()
            return fail()

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/members")
    assert (
        response.status_code == {"http_exception": 403, "error_status": 400, "crash": 500}[failure]
    )
    assert _emails(database) == []
    assert cast(QueuePool, database.engine.pool).checkedout() == 0


def test_added_objects_are_flushed_before_the_response_is_rendered(
    app: App, database: Database
) -> None:
    # db.add(x); return x: no flush() needed for x.id and server defaults in the response.
    @app.post("/sync", status_code=201)
    def create_sync(data: MemberCreate, db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        return member

    @app.post("/async", status_code=201)
    async def create_async(data: MemberCreate, db: AsyncSession) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        return member

    with TestClient(app) as client:
        made = [
            client.post(f"/{mode}", json={"email": f"{mode}@example.com", "name": mode})
            for mode in ("sync", "async")
        ]
        duplicate = client.post("/async", json={"email": "sync@example.com", "name": "Again"})
    for response in made:
        assert response.status_code == 201, response.text
        assert isinstance(response.json()["id"], int)
        assert response.json()["created_at"]
    assert duplicate.status_code == 409  # the flush fails before anything is rendered
    assert duplicate.json()["columns"] == ["email"]
    assert _emails(database) == ["sync@example.com", "async@example.com"]


def test_explicit_commit_survives_a_later_error(app: App, database: Database) -> None:
    @app.post("/members")
    def create(db: Session) -> None:
        db.add(Member(email="kept@example.com", name="K"))
        db.commit()
        db.add(Member(email="lost@example.com", name="L"))
        raise HTTPException(409, "second one fails")

    with TestClient(app) as client:
        assert client.post("/members").status_code == 409
    assert _emails(database) == ["kept@example.com"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_whatever_the_handler_changed_is_committed(app: App, database: Database, mode: str) -> None:
    # Nothing is pending in the session but the work must still be committed: a raw
    # UPDATE, and a change made after the handler's own commit (no transaction left).
    member_id = _add(database)
    update = text("UPDATE member SET nickname = 'raw' WHERE id = :id")
    if mode == "sync":

        @app.post("/raw")
        def raw(db: Session) -> None:
            db.execute(update, {"id": member_id})

        @app.post("/after-commit")
        def after_commit(db: Session) -> None:
            member = db.get_or_404(Member, member_id)
            db.commit()
            member.name = "Changed"

    else:

        @app.post("/raw")
        async def raw_async(db: AsyncSession) -> None:
            await db.execute(update, {"id": member_id})

        @app.post("/after-commit")
        async def after_commit_async(db: AsyncSession) -> None:
            member = await db.get_or_404(Member, member_id)
            await db.commit()
            member.name = "Changed"

    with TestClient(app) as client:
        assert client.post("/raw").status_code == 200
        assert client.post("/after-commit").status_code == 200
    with database.session() as session:
        member = session.get_one(Member, member_id)
        assert (member.nickname, member.name) == ("raw", "Changed")
    assert cast(QueuePool, database.engine.pool).checkedout() == 0


@pytest.mark.parametrize("status", [200, 400])
def test_an_unused_session_begins_nothing(app: App, database: Database, status: int) -> None:
    began: list[object] = []

    @app.get("/sync")
    def unused_sync(db: Session) -> tuple[dict[str, str], int]:
        event.listen(db, "after_transaction_create", lambda *_: began.append(db))
        return {"ok": "yes"}, status

    @app.get("/async")
    async def unused_async(db: AsyncSession) -> tuple[dict[str, str], int]:
        event.listen(db.sync_session, "after_transaction_create", lambda *_: began.append(db))
        return {"ok": "yes"}, status

    with TestClient(app) as client:
        assert client.get("/sync").status_code == status
        assert client.get("/async").status_code == status
    assert began == []


def test_get_or_404(app: App, database: Database) -> None:
    member_id = _add(database)

    @app.get("/sync/{member_id}")
    def get_sync(member_id: int, db: Session) -> Member:
        return db.get_or_404(Member, member_id)

    @app.get("/async/{member_id}")
    async def get_async(member_id: int, db: AsyncSession) -> Member:
        return await db.get_or_404(Member, member_id)

    with TestClient(app) as client:
        for prefix in ("sync", "async"):
            assert client.get(f"/{prefix}/{member_id}").json()["email"] == "ann@example.com"
            missing = client.get(f"/{prefix}/{member_id + 100}")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            assert missing.json() == {
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": f"No Member with id {member_id + 100}.",
                "request_id": missing.headers["x-request-id"],
            }


def test_get_or_404_by_unique_columns_and_first_or_404(app: App, database: Database) -> None:
    _add(database)

    @app.get("/sync/{email}")
    def get_sync(email: str, db: Session) -> Member:
        return db.get_or_404(Member, email=email)

    @app.get("/async/{email}")
    async def get_async(email: str, db: AsyncSession) -> Member:
        return await db.get_or_404(Member, email=email, name="Ann")

    @app.get("/first-sync/{name}")
    def first_sync(name: str, db: Session) -> Member:
        return db.first_or_404(select(Member).where(Member.name == name).order_by(Member.id))

    @app.get("/first-async/{name}")
    async def first_async(name: str, db: AsyncSession) -> Member:
        return await db.first_or_404(select(Member).where(Member.name == name))

    with TestClient(app) as client:
        for prefix in ("sync", "async"):
            assert client.get(f"/{prefix}/ann@example.com").json()["name"] == "Ann"
            missing = client.get(f"/{prefix}/bob@example.com")
            assert missing.status_code == 404
            assert missing.json()["detail"].startswith("No Member with email 'bob@example.com'")
            assert client.get(f"/first-{prefix}/Ann").json()["email"] == "ann@example.com"
            nobody = client.get(f"/first-{prefix}/Bob")
            assert nobody.status_code == 404
            assert nobody.json()["detail"] == "No Member matches."
    with database.session() as session:
        with pytest.raises(TypeError, match="primary key or filters"):
            session.get_or_404(Member)
        with pytest.raises(TypeError, match="not both"):
            session.get_or_404(Member, 1, email="ann@example.com")


def test_orm_objects_without_annotation_use_the_read_schema(app: App, database: Database) -> None:
    _add(database)
    _add(database, "bo@example.com")

    @app.get("/members")
    def members(db: Session):  # type: ignore[no-untyped-def]
        return list(db.scalars(select(Member).order_by(Member.id)))

    @app.get("/first")
    async def first(db: AsyncSession):  # type: ignore[no-untyped-def]
        return await db.get(Member, 1) or await db.scalar(select(Member).limit(1))

    with TestClient(app) as client:
        listed = client.get("/members").json()
        first_member = client.get("/first").json()
    assert [m["email"] for m in listed] == ["ann@example.com", "bo@example.com"]
    assert set(listed[0]) == {"id", "email", "name", "nickname", "status", "balance", "created_at"}
    assert "password_hash" not in first_member


def test_list_annotation(app: App, database: Database) -> None:
    _add(database)

    @app.get("/members")
    async def members(db: AsyncSession) -> list[Member]:
        return list(await db.scalars(select(Member)))

    with TestClient(app) as client:
        body = client.get("/members").json()
    assert body[0]["email"] == "ann@example.com"
    assert body[0]["balance"] in ("0.00", "0")
    assert "password_hash" not in body[0]


def test_lazy_loading_in_async_code_names_the_relationship(
    app: App, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    member_id = _add(database)
    with database.session() as session:
        session.add(Entry(title="hello", author_id=member_id))
        session.commit()
    EntryOut = Entry.schema(include=["id", "title", "author"], name="EntryWithAuthor")

    @app.get("/lazy/{entry_id}")
    async def lazy(entry_id: int, db: AsyncSession) -> EntryOut:  # type: ignore[valid-type]
        return await db.get_or_404(Entry, entry_id)

    @app.get("/eager/{entry_id}")
    async def eager(entry_id: int, db: AsyncSession) -> EntryOut:  # type: ignore[valid-type]
        return await db.get_or_404(Entry, entry_id, options=[selectinload(Entry.author)])

    @app.get("/sync/{entry_id}")
    def sync(entry_id: int, db: Session) -> EntryOut:  # type: ignore[valid-type]
        return db.get_or_404(Entry, entry_id)  # lazy loading is fine in sync code

    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.get("/lazy/1")
        assert failed.status_code == 500
        assert "Entry.author is not loaded" in caplog.text
        assert "MissingGreenlet" not in caplog.text
        eager_body = client.get("/eager/1").json()
        assert eager_body["author"]["email"] == "ann@example.com"
        assert "password_hash" not in eager_body["author"]
        assert client.get("/sync/1").json() == eager_body


def test_lazy_loading_of_a_column_in_async_code_is_a_lazy_load_error(
    app: App, database: Database
) -> None:
    member_id = _add(database)

    @app.get("/expired")
    async def expired(db: AsyncSession) -> dict[str, str]:
        member = await db.get_or_404(Member, member_id)
        db.expire(member, ["name"])
        try:
            return {"name": member.name}
        except LazyLoadError as exc:
            return {"error": str(exc)}

    with TestClient(app) as client:
        body = client.get("/expired").json()
    assert "is not loaded, and async code cannot load it on access" in body["error"]


def test_integrity_errors_are_409_problems(app: App, database: Database) -> None:
    _add(database)

    @app.post("/sync")
    def create(data: MemberCreate, db: Session) -> Member:  # type: ignore[valid-type]
        member = Member.from_schema(data)
        db.add(member)
        db.flush()
        return member

    @app.post("/async")
    async def create_async(data: MemberCreate, db: AsyncSession) -> None:  # type: ignore[valid-type]
        db.add(Member.from_schema(data))  # no flush: the commit before the response fails

    @app.post("/entries")
    def entry(db: Session) -> None:
        db.add(Entry(title="orphan", author_id=12345))

    @app.post("/null")
    async def null(db: AsyncSession) -> None:
        db.add(Member(email="n@example.com", name=None))

    with TestClient(app) as client:
        for path in ("/sync", "/async"):
            response = client.post(path, json={"email": "ann@example.com", "name": "Twin"})
            assert response.status_code == 409, response.text
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert body["kind"] == "unique"
            assert body["columns"] == ["email"]
            assert body["constraint"] == "uq_member_email"
            assert "ann@example.com" not in body["detail"]  # values never leak
        orphan = client.post("/entries").json()
        assert orphan["status"] == 409
        assert orphan["kind"] == "foreign_key"
        assert orphan["columns"] == ["author_id"]
        null_body = client.post("/null").json()
        assert null_body["status"] == 409
        assert (null_body["kind"], null_body["columns"]) == ("not_null", ["name"])
    assert _emails(database) == ["ann@example.com"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/test",
        "sqlite:////nonexistent-directory/for/nightowl/app.db",
    ],
)
def test_unreachable_database_is_a_503(url: str) -> None:
    app = App(database=url)

    @app.get("/sync")
    def sync(db: Session) -> list[int]:
        return list(db.scalars(select(Member.id)))

    @app.get("/async")
    async def async_(db: AsyncSession) -> list[int]:
        return list(await db.scalars(select(Member.id)))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    with TestClient(app) as client:
        for path in ("/sync", "/async", "/sync"):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "1"
            assert response.json()["title"] == "Service Unavailable"
        assert client.get("/health").status_code == 200
    app.state.database.close()


@pytest.mark.parametrize("pre_ping", [True, False, 10.0])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_connection_killed_during_a_request_is_a_503(
    postgres_url: str, mode: str, pre_ping: bool | float
) -> None:
    # The handler's connection is terminated by the server between two queries. Without
    # pre-ping, the invalidated pool alone must give the next request a fresh connection.
    database = Database(postgres_url, pool_pre_ping=pre_ping)
    create_tables(database)
    app = App(database=database)
    admin = create_engine(postgres_url, poolclass=NullPool)

    def kill(pid: int) -> None:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    if mode == "sync":

        @app.post("/members")
        def create(db: Session) -> list[str]:
            db.add(Member(email="lost@example.com", name="Lost"))
            db.flush()
            kill(db.execute(text("SELECT pg_backend_pid()")).scalar_one())
            return list(db.scalars(select(Member.email)))

        @app.get("/members")
        def members(db: Session) -> list[str]:
            return list(db.scalars(select(Member.email)))

    else:

        @app.post("/members")
        async def create_async(db: AsyncSession) -> list[str]:
            db.add(Member(email="lost@example.com", name="Lost"))
            await db.flush()
            pid = (await db.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await asyncio.to_thread(kill, pid)
            return list(await db.scalars(select(Member.email)))

        @app.get("/members")
        async def members_async(db: AsyncSession) -> list[str]:
            return list(await db.scalars(select(Member.email)))

    def checked_out() -> int:
        engine = database.engine if mode == "sync" else database.async_engine.sync_engine
        return cast(QueuePool, engine.pool).checkedout()

    try:
        with TestClient(app) as client:
            for _ in range(2):  # and again, on a fresh connection
                killed = client.post("/members")
                assert killed.status_code == 503, killed.text
                assert killed.headers["content-type"] == "application/problem+json"
                assert killed.headers["retry-after"] == "1"
                assert client.get("/members").json() == []  # rolled back; the next one works
                assert checked_out() == 0  # nothing leaked
        assert _emails(database) == []
    finally:
        drop_tables(database)
        database.close()
        admin.dispose()


def test_sql_errors_stay_500(app: App) -> None:
    from sqlalchemy import text

    @app.get("/broken")
    def broken(db: Session) -> None:
        db.execute(text("SELECT * FROM no_such_table"))

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/broken").status_code == 500


def test_app_option_reads_settings_and_environment(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Settings:
        database_url = f"sqlite:///{tmp_path}/settings.db"

    app = App(database=True, settings=Settings())
    assert str(app.state.database.url).endswith("settings.db")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    assert str(App(database=True).state.database.url).endswith("env.db")
    explicit = App(
        database={"url": f"sqlite:///{tmp_path}/x.db", "pool_size": 3, "pool_timeout": 2}
    )
    assert explicit.state.database.engine.pool.size() == 3
    for made in (app, explicit):
        made.state.database.close()


def test_both_engines_share_an_in_memory_database() -> None:
    app = App(database="sqlite://")
    database = app.state.database
    database.create_all()

    @app.post("/add")
    def add(db: Session) -> None:
        db.add(Member(email="mem@example.com", name="M"))

    @app.get("/count")
    async def count(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(Member)) or 0)

    with TestClient(app) as client:
        assert client.post("/add").status_code == 200
        assert client.get("/count").json() == 1
    database.close()


def test_importing_nightowl_does_not_import_sqlalchemy() -> None:
    code = "import sys, nightowl, nightowl.app; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_idle_connections_are_pinged_before_use(postgres_url: str, mode: str) -> None:
    # The server drops a connection while it sits in the pool; the default pre-ping
    # (only for connections idle a while) notices and the request still succeeds.
    database = Database(postgres_url, pool_pre_ping=0.05, pool_size=1)
    create_tables(database)
    app = App(database=database)
    admin = create_engine(postgres_url, poolclass=NullPool)

    if mode == "sync":

        @app.get("/pid")
        def pid(db: Session) -> int:
            return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())

    else:

        @app.get("/pid")
        async def pid_async(db: AsyncSession) -> int:
            return int((await db.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    try:
        with TestClient(app) as client:
            first = client.get("/pid").json()
            with admin.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            time.sleep(0.2)  # idle past the ping threshold
            second = client.get("/pid")
            assert second.status_code == 200, second.text
            assert second.json() != first  # a fresh connection replaced the dead one
    finally:
        drop_tables(database)
        database.close()
        admin.dispose()
