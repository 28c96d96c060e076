"""Reversible migrations: Alembic underneath, Django's commands on top.

::

    nightowl makemigrations -m "add users"   # migrations/versions/0001_add_users.py
    nightowl makemigrations --merge           # join migrations made on two branches
    nightowl migrate                          # apply every pending migration
    nightowl migrate 0001                     # go up or down to a migration
    nightowl migrate -1                       # roll back the last one
    nightowl showmigrations                   # applied [X] and pending [ ]
    nightowl sqlmigrate 0002                  # the SQL, without running it

The same from code: :class:`Migrations`. The project's ``migrations/env.py`` calls
:func:`run_env`, so the environment itself lives (and is upgraded) here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Migration", "MigrationError", "Migrations", "run_env", "warn_unapplied"]

if TYPE_CHECKING:
    from nightowl.db.migrations._env import run_env
    from nightowl.db.migrations._migrations import (
        Migration,
        MigrationError,
        Migrations,
        warn_unapplied,
    )


def __getattr__(name: str) -> Any:
    # Alembic is imported on first use: the CLI loads this package's commands on every run.
    if name == "run_env":
        from nightowl.db.migrations import _env

        return _env.run_env
    if name in __all__:
        from nightowl.db.migrations import _migrations

        return getattr(_migrations, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
