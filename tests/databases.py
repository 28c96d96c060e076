"""Database fixtures shared by every package's tests: each database-facing test runs on
SQLite and on PostgreSQL.

PostgreSQL (127.0.0.1:5432, user postgres, trust auth) gets a database of its own for
the test run, dropped at the end; a test is skipped, with the reason, when the server
cannot be reached. MariaDB (127.0.0.1:3306, root) is used the same way by the smoke tests.
Loaded for the whole suite by ``tests/conftest.py``.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from nightowl.db import Database
from tests.db.models import create_tables, drop_tables

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
MARIADB_SERVER = "mysql+pymysql://root@127.0.0.1:3306"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _scratch_database(server: str, admin_db: str, port: int, what: str) -> Iterator[str]:
    if not _reachable(port):
        pytest.skip(f"{what} is not reachable on 127.0.0.1:{port}")
    name = f"nightowl_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/{admin_db}", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        yield f"{server}/{name}"
    finally:
        with admin.connect() as connection:
            force = " WITH (FORCE)" if server.startswith("postgresql") else ""
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created for this test run."""
    yield from _scratch_database(PG_SERVER, "test", 5432, "PostgreSQL")


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A MariaDB database created for this test run."""
    yield from _scratch_database(MARIADB_SERVER, "test", 3306, "MariaDB")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of each database the battery is tested on."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The test tables, created for one test and dropped after it."""
    database = Database(database_url)
    create_tables(database)
    try:
        yield database
    finally:
        drop_tables(database)
        database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for one test, empty (migrations need a clean slate)."""
    if request.param == "postgresql":
        yield from _scratch_database(PG_SERVER, "test", 5432, "PostgreSQL")
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
