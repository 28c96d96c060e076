"""The ``nightowl`` command line: ``run``, ``serve``, ``routes`` and your own commands.

::

    nightowl run                    # dev server for app.py, reloading on changes
    nightowl serve --workers 4      # production server
    nightowl routes                 # the app's routes

The app is found like ``flask`` finds its app (see :mod:`nightowl.cli.discovery`): an
``APP`` argument or ``--app`` option (``MODULE[:NAME]``), else ``$NIGHTOWL_APP``, else
``app.py`` or ``main.py`` in the current folder.

Adding commands
---------------

Commands are ordinary click commands, added in two ways:

1. An installed package declares them in the ``nightowl.commands`` entry-point group::

       # pyproject.toml of the package
       [project.entry-points."nightowl.commands"]
       migrate = "mypackage.cli:migrate"

2. An app, or a battery given the app, adds them with ``app.add_command()``; they
   appear whenever ``nightowl`` runs in a folder where it finds that app::

       @click.command()
       def seed():
           '''Fill the database with sample rows.'''

       app.add_command(seed)

The app is only imported when a command needs it, so ``nightowl --help`` works without
one. A command that needs the app takes it with :func:`pass_app`::

    @click.command()
    @pass_app
    def stats(app):
        click.echo(f"{len(app.routes)} routes")
"""

from __future__ import annotations

import click

from nightowl.cli.check import check_command
from nightowl.cli.discovery import APP_ENV, AppNotFound, LocatedApp, locate_app
from nightowl.cli.group import ENTRY_POINT_GROUP, NightowlGroup, ScriptInfo, pass_app
from nightowl.cli.new import new_command
from nightowl.cli.openapi import openapi_command
from nightowl.cli.routes import routes_command
from nightowl.cli.serving import run_command, serve_command
from nightowl.cli.shell import shell_command

__all__ = [
    "APP_ENV",
    "ENTRY_POINT_GROUP",
    "AppNotFound",
    "LocatedApp",
    "NightowlGroup",
    "ScriptInfo",
    "cli",
    "locate_app",
    "main",
    "pass_app",
]


@click.group(cls=NightowlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nightowl", prog_name="nightowl")
def cli() -> None:
    """nightowl: run, serve and manage a nightowl app.

    The app is MODULE[:NAME] given to a command or to --app, else $NIGHTOWL_APP,
    else app.py or main.py in the current folder.
    """


cli.add_command(run_command)
cli.add_command(serve_command)
cli.add_command(routes_command)
cli.add_command(openapi_command)
cli.add_command(new_command)
cli.add_command(shell_command)
cli.add_command(check_command)


def main(args: list[str] | None = None) -> None:
    """The ``nightowl`` console script."""
    cli.main(args=args, prog_name="nightowl")
