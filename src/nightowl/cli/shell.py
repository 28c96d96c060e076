"""``nightowl shell``: a Python shell with the app, a database session and the models."""

from __future__ import annotations

import code
import importlib
import sys
from typing import Any

import click

from nightowl.cli.group import ScriptInfo

__all__ = ["shell_command", "shell_namespace"]


def shell_namespace(info: ScriptInfo) -> dict[str, Any]:
    """What the shell starts with: ``app``; with a database, ``database`` and ``db``
    (a sync session); and the public names of the project's ``models`` module."""
    located = info.locate()
    app = located.app
    namespace: dict[str, Any] = {"app": app}
    database = getattr(getattr(app, "state", None), "database", None)
    if database is not None and callable(getattr(database, "session", None)):
        namespace["database"] = database
        namespace["db"] = database.session()
    folder = located.app_dir
    if (folder / "models.py").is_file() or (folder / "models" / "__init__.py").is_file():
        try:
            models = importlib.import_module("models")
        except Exception as exc:
            from nightowl._frames import format_user_traceback

            raise click.ClickException(
                "While importing 'models', an error was raised:\n\n"
                f"{format_user_traceback(exc).rstrip()}"
            ) from exc
        exported = getattr(models, "__all__", None)
        names = exported or [name for name in vars(models) if not name.startswith("_")]
        for name in names:
            namespace.setdefault(name, getattr(models, name))
    return namespace


@click.command("shell")
@click.option("-c", "--command", help="Run this Python code instead of a shell.")
@click.option("--plain", is_flag=True, help="Use Python's own shell even if IPython is installed.")
@click.pass_obj
def shell_command(info: ScriptInfo, command: str | None, plain: bool) -> None:
    """Open a Python shell with the app, its database and the models.

    `app` is the app, `db` a database session (commit to keep changes), and the names
    of models.py (your models, and Model) are imported. IPython is used when installed.
    """
    namespace = shell_namespace(info)
    try:
        if command is not None:
            exec(compile(command, "<nightowl shell -c>", "exec"), namespace)
            return
        shown = ", ".join(name for name in namespace if not name.startswith("_"))
        banner = f"nightowl shell, Python {sys.version.split()[0]}. Ready: {shown}."
        if not plain:
            try:
                from IPython import start_ipython  # type: ignore[import-not-found, unused-ignore]
            except ImportError:
                pass
            else:
                start_ipython(argv=["--no-banner"], user_ns=namespace)
                return
        code.interact(banner=banner, local=namespace, exitmsg="")
    finally:
        session = namespace.get("db")
        if session is not None:
            session.close()
        database = namespace.get("database")
        if database is not None:
            database.dispose()
