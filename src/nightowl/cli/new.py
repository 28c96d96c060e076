"""``nightowl new NAME``: start a project (see :mod:`nightowl.scaffold`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from nightowl._extras import extras_missing, install_command
from nightowl.exceptions import ImproperlyConfigured
from nightowl.scaffold import create_project

__all__ = ["NEEDED_EXTRAS", "new_command"]

#: The extras a new project imports (its models and migrations need the database battery).
NEEDED_EXTRAS = ("db",)


@click.command("new")
@click.argument("name")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def new_command(name: str, directory: Path | None) -> None:
    """Create the project NAME in ./NAME (or DIRECTORY).

    It has an app with a JSON API, models, settings (.env), a first migration,
    templates/, static/ and tests.
    """
    try:
        target = create_project(name, directory)
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    shown = os.path.relpath(target)
    click.echo(f"Created the project {name} in {shown}/. Next:\n")
    missing = extras_missing(*NEEDED_EXTRAS)
    if missing:
        click.echo(f"  {install_command(*missing)}   # what the project needs (not installed)")
    click.echo(f"  cd {shown}")
    click.echo("  nightowl migrate        # create the database")
    click.echo("  nightowl run            # http://127.0.0.1:8000")
    click.echo("  python -m pytest        # its tests")
