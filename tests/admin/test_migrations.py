"""The admin's migration makes exactly the audit log table its model describes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nightowl import App
from nightowl.admin import Admin
from nightowl.auth import Auth
from nightowl.db.migrations import Migrations


def test_the_admin_migration_matches_its_model(empty_database_url: str, tmp_path: Path) -> None:
    app = App(database=empty_database_url, secret_key="x" * 32)
    Auth(app)
    Admin(app)
    database = app.state.database
    migrations = Migrations(database, tmp_path / "migrations")
    migrations.init()
    steps = [name for name, _ in migrations.migrate()]
    assert "admin_0001_initial" in steps
    ours = {"admin_log_entry"}

    def only_ours(_obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or name in ours

    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": only_ours,
                "include_name": lambda name, type_, _parents: type_ != "table" or name in ours,
            },
        )
        assert compare_metadata(context, database.metadata) == []
    assert migrations.migrate("zero")
    database.close()
