"""``nightowl makemigrations``, ``migrate``, ``showmigrations`` and ``sqlmigrate``.

Declared in the ``nightowl.commands`` entry-point group, so they exist wherever
``nightowl[db]`` is installed; each finds the app (``--app``, ``$NIGHTOWL_APP``,
``app.py``) and migrates its database. Alembic is imported only when one runs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nightowl.cli.group import ScriptInfo
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.db.migrations._migrations import Migrations

__all__ = ["makemigrations", "migrate", "showmigrations", "sqlmigrate"]

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _migrations() -> Iterator[Migrations]:
    """The app's :class:`Migrations`; its database's connections are closed afterwards."""
    from nightowl.db._database import Database
    from nightowl.db.migrations._migrations import Migrations

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    database = getattr(getattr(app, "state", None), "database", None)
    if not isinstance(database, Database):
        raise click.ClickException(
            'The app has no database: give it one with App(database="sqlite:///app.db"), '
            "or App(database=True) to read DATABASE_URL."
        )
    try:
        yield Migrations(database, report=click.echo)
    finally:
        database.dispose()


def _readable_errors(func: F) -> F:
    """Report migration and database errors in one line, never with a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        from nightowl.db.migrations._migrations import MigrationError

        try:
            return func(*args, **kwargs)
        except (MigrationError, ImproperlyConfigured) as exc:
            raise click.ClickException(str(exc)) from exc
        except DBAPIError as exc:
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(
                f"The database failed: {type(exc.orig).__name__}: {detail}"
            ) from exc
        except SQLAlchemyError as exc:
            raise click.ClickException(f"The database failed: {exc}") from exc

    return wrapper  # type: ignore[return-value]


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive, on Windows
        return str(path)


@click.command("makemigrations")
@click.option("-m", "--message", help="What the migration does; it names the file.")
@click.option("--empty", is_flag=True, help="Write an empty migration to fill in by hand.")
@click.option("--merge", is_flag=True, help="Merge the latest migrations of separate branches.")
@_readable_errors
def makemigrations(message: str | None, empty: bool, merge: bool) -> None:
    """Write the next migration from the changes to the models.

    The models are compared with the database, which must have every migration applied.
    The migrations/ folder is created on first use. With --merge, write a migration that
    merges migrations made on separate branches instead.
    """
    if merge and empty:
        raise click.UsageError("--merge and --empty cannot be used together.")
    with _migrations() as migrations:
        if merge:
            path = migrations.merge(message)
            if path is None:
                click.echo("No conflicts detected to merge.")
                return
        else:
            if migrations.init():
                click.echo(f"Created {_shown(migrations.folder)}/")
            path = migrations.make(message, empty=empty)
            if path is None:
                click.echo("No changes detected")
                return
        click.echo(f"Created {_shown(path)}")
        for line in migrations.operations:
            click.echo(f"  - {line}")


@click.command("migrate", context_settings={"ignore_unknown_options": True})
@click.argument("target", required=False)
@_readable_errors
def migrate(target: str | None) -> None:
    """Apply the migrations, or go up or down to TARGET.

    TARGET is a migration (0002, 2 or 0002_add_email), -N to roll back N migrations,
    or zero to unapply them all.
    """
    with _migrations() as migrations:
        if not migrations.migrate(target):
            click.echo("No migrations to apply.")


@click.command("showmigrations")
@_readable_errors
def showmigrations() -> None:
    """List the migrations: [X] applied, [ ] pending."""
    with _migrations() as migrations:
        found = migrations.status()
        if not found:
            click.echo("No migrations yet: run `nightowl makemigrations`.")
        for migration in found:
            click.echo(f"[{'X' if migration.applied else ' '}] {migration.name}")


@click.command("sqlmigrate")
@click.argument("name")
@click.option("--backwards", is_flag=True, help="The SQL that unapplies the migration.")
@_readable_errors
def sqlmigrate(name: str, backwards: bool) -> None:
    """Print the SQL of migration NAME (0002 or 0002_add_email) without running it.

    NAME may also be head (the latest migration; heads is the same) or base (the first).
    """
    with _migrations() as migrations:
        click.echo(migrations.sql(name, backwards=backwards), nl=False)
