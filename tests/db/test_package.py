"""nightowl.db's public surface and the pieces behind App(database=...)."""

from typing import cast

import pytest
from sqlalchemy import QueuePool, select

import nightowl.db
from nightowl import App
from nightowl.db import Database, Session
from nightowl.db._engine import async_url, sync_url
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.db.models import Member


def test_all_is_complete_and_documented() -> None:
    public = {n for n in vars(nightowl.db) if not n.startswith("_") and n[0].isupper()}
    assert public - {"TYPE_CHECKING", "Any"} <= set(nightowl.db.__all__)
    for name in nightowl.db.__all__:
        assert getattr(nightowl.db, name).__doc__ or name.isupper(), name


@pytest.mark.parametrize(
    ("url", "sync", "async_"),
    [
        ("sqlite:///app.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///app.db", "sqlite+pysqlite", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg", "postgresql+psycopg"),
        ("postgresql+asyncpg://u@h/db", "postgresql+psycopg", "postgresql+asyncpg"),
        ("mysql://root@h/db", "mysql+pymysql", "mysql+aiomysql"),
        ("mariadb://root@h/db", "mariadb+pymysql", "mariadb+aiomysql"),
    ],
)
def test_one_url_gives_a_driver_per_mode(url: str, sync: str, async_: str) -> None:
    assert sync_url(url).drivername == sync
    assert async_url(url).drivername == async_


def test_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="Unsupported database 'oracle'"):
        Database("oracle://scott@h/db")
    with pytest.raises(ImproperlyConfigured, match="takes a URL"):
        App(database=42)
    assert "secret" not in repr(Database("postgresql://u:secret@h/db"))


def test_pool_exhausted_is_a_503_and_recovers(database: Database) -> None:
    small = Database(database.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    app = App(database=small)

    @app.get("/members")
    def members(db: Session) -> list[str]:
        return list(db.scalars(select(Member.email)))

    with TestClient(app) as client:
        held = small.engine.connect()
        try:
            busy = client.get("/members")
            assert busy.status_code == 503
            assert busy.json()["detail"] == "The database is unavailable; try again shortly."
        finally:
            held.close()
        assert client.get("/members").json() == []
        assert cast(QueuePool, small.engine.pool).checkedout() == 0
    small.close()
