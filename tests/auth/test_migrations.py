"""The battery's migrations make exactly the tables its models describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nightowl import App
from nightowl.auth import Auth
from nightowl.db.migrations import Migrations


def test_the_battery_migrations_match_its_models(empty_database_url: str, tmp_path: Path) -> None:
    app = App(database=empty_database_url, secret_key="x" * 32)
    Auth(app)
    database = app.state.database
    migrations = Migrations(database, tmp_path / "migrations")
    migrations.init()
    steps = migrations.migrate()
    names = [name for name, _ in steps]
    assert sorted(names) == [
        "auth_0001_initial",
        "auth_0002_api_keys",
        "auth_0003_tokens",
        "auth_user_0001_initial",
    ]
    assert names.index("auth_0002_api_keys") < names.index("auth_0003_tokens")
    # The tables of the batteries this app installed (another battery's models may be
    # imported in the same process, with no migrations of theirs applied here).
    battery = {
        table.name
        for table in database.metadata.tables.values()
        if table.info.get("migrations") in database.battery_migrations
    }
    tables = {"auth_user", "auth_group", "auth_permission", "auth_api_key", "auth_token"}
    assert tables | {"auth_revoked_token"} <= battery

    def only_battery(_obj: Any, name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or name in battery

    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": only_battery,
                "include_name": lambda name, type_, _parents: type_ != "table" or name in battery,
            },
        )
        assert compare_metadata(context, database.metadata) == []
    assert migrations.migrate("zero")
    database.close()
