"""The ``nightowl`` command group: built-in commands, plugin commands and the app's commands.

The app is loaded lazily, as ``flask`` does it: ``nightowl --help`` and the built-in
commands work with no app around, and the app's own commands appear as soon as one is
found.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nightowl._extras import EXTRA_OF, install_command
from nightowl.cli.discovery import AppNotFound, LocatedApp, locate_app

__all__ = ["ENTRY_POINT_GROUP", "NightowlGroup", "ScriptInfo", "pass_app"]

#: Installed packages add commands to ``nightowl`` under this entry-point group.
ENTRY_POINT_GROUP = "nightowl.commands"
F = TypeVar("F", bound=Callable[..., Any])


class ScriptInfo:
    """What a ``nightowl`` invocation knows about its app; the click context's ``obj``.

    Args:
        app_ref: the ``--app`` option's value, if given.
        cwd: the folder apps are looked for in (the current folder).
    """

    def __init__(self, app_ref: str | None = None, cwd: Path | None = None) -> None:
        self.app_ref = app_ref
        self.cwd = cwd
        self._located: dict[str | None, LocatedApp] = {}

    def locate(self, ref: str | None = None) -> LocatedApp:
        """Find and import the app (once): ``ref``, else ``--app``, else the defaults."""
        ref = ref or self.app_ref
        located = self._located.get(ref)
        if located is None:
            located = self._located[ref] = locate_app(ref, self.cwd)
        return located

    def load_app(self, ref: str | None = None) -> Any:
        """The app itself (see :meth:`locate`)."""
        return self.locate(ref).app


def pass_app(func: F) -> F:
    """Call a command with the loaded app as its first argument.

    ::

        @click.command()
        @pass_app
        def greet(app):
            click.echo(app.title)
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        info = click.get_current_context().ensure_object(ScriptInfo)
        return func(info.load_app(), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _set_app_ref(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(ScriptInfo).app_ref = value


class NightowlGroup(click.Group):
    """A click group that adds plugin commands and the app's ``app.commands``.

    Built-in commands come first, then commands from the ``nightowl.commands`` entry
    points, then the commands the app registered with ``app.add_command()``. The app is
    only imported when a command is not found among the first two, or to list commands.
    A plugin command is imported only when it is run or the commands are listed, so that
    ``nightowl run`` does not load the database battery (SQLAlchemy, Alembic).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(
            click.Option(
                ["--app"],
                metavar="MODULE[:NAME]",
                help="The app to load (default: $NIGHTOWL_APP, app.py or main.py).",
                is_eager=True,
                expose_value=False,
                callback=_set_app_ref,
            )
        )
        self._plugins_loaded = False
        self._plugins_tried: set[tuple[str, str]] = set()
        #: Commands of nightowl's own batteries whose extra is not installed: name -> extra.
        self._missing: dict[str, str] = {}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Start every invocation with a fresh :class:`ScriptInfo` as ``ctx.obj``, after
        reading the current folder's ``.env`` into the environment (what is already set
        there wins), as ``flask`` does: ``NIGHTOWL_APP``, ``PORT``, ``SECRET_KEY``..."""
        if parent is None:
            _load_dotenv(Path.cwd() / ".env")
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo()
        return super().make_context(info_name, args, parent, **extra)

    def _load_plugins(self, name: str | None = None) -> None:
        """Import the plugin commands: all of them, or only those called ``name``."""
        if self._plugins_loaded:
            return
        from importlib.metadata import entry_points  # slow to import; built-ins need none

        if name is None:
            self._plugins_loaded = True
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            key = (entry_point.name, entry_point.value)
            if (name is not None and entry_point.name != name) or key in self._plugins_tried:
                continue
            self._plugins_tried.add(key)
            try:
                command = entry_point.load()
            except Exception as exc:
                extra = _missing_extra(entry_point, exc)
                if extra is not None:  # a battery whose extra is not installed
                    self._missing[entry_point.name] = extra
                    continue
                click.secho(
                    f"Warning: could not load the command {entry_point.name!r} "
                    f"from {entry_point.value}: {type(exc).__name__}: {exc}",
                    err=True,
                    fg="yellow",
                )
                continue
            if isinstance(command, click.Command) and entry_point.name not in self.commands:
                self.add_command(command, entry_point.name)

    def _app_commands(self, ctx: click.Context, *, quiet: bool) -> dict[str, click.Command]:
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except AppNotFound:
            return {}
        except click.ClickException as exc:
            if not quiet:
                raise
            click.secho(f"Error: {exc.format_message()}", err=True, fg="red")
            return {}
        commands = getattr(app, "commands", None) or []
        return {cmd.name: cmd for cmd in commands if isinstance(cmd, click.Command) and cmd.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in, plugin and app commands; an app that fails to load is reported, not fatal."""
        self._load_plugins()
        names = set(super().list_commands(ctx))
        names.update(self._app_commands(ctx, quiet=True))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in or plugin command, else one of the app's commands."""
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_plugins(cmd_name)
            command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        # Shell completion must not fail because the app does not import.
        command = self._app_commands(ctx, quiet=ctx.resilient_parsing).get(cmd_name)
        extra = self._missing.get(cmd_name)
        if command is None and extra is not None and not ctx.resilient_parsing:
            raise click.ClickException(
                f"nightowl {cmd_name} needs the {extra!r} extra, which is not installed: "
                f"{install_command(extra)}"
            )
        return command

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """After the commands, those of batteries whose extra is missing, with the install
        command of each."""
        super().format_epilog(ctx, formatter)
        self._load_plugins()
        by_extra: dict[str, list[str]] = {}
        for name, extra in sorted(self._missing.items()):
            by_extra.setdefault(extra, []).append(name)
        if not by_extra:
            return
        rows = [
            (", ".join(names), f"{install_command(extra)}") for extra, names in by_extra.items()
        ]
        with formatter.section("Not installed (install the extra to add them)"):
            for names, command in rows:
                formatter.write_text(f"{names}:")
                with formatter.indentation():
                    formatter.write_text(command)


def _load_dotenv(path: Path) -> None:
    from nightowl._env import read_dotenv
    from nightowl.exceptions import ImproperlyConfigured

    try:
        found = read_dotenv(path)
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from exc
    for name, value in found.items():
        os.environ.setdefault(name, value)


def _missing_extra(entry_point: Any, exc: Exception) -> str | None:
    """The extra to install when a command nightowl itself declares fails to import for a
    missing module (its battery's extra), else ``None``."""
    dist = getattr(entry_point, "dist", None)
    if dist is None or dist.name != "nightowl" or not isinstance(exc, ImportError):
        return None
    module = entry_point.value.split(":")[0]
    for package, extra in EXTRA_OF.items():
        if module == package or module.startswith(package + "."):
            return extra
    return None
