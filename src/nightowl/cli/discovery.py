"""Finding the app the ``nightowl`` command works on, the way ``flask`` finds its app.

In order, the first that is given wins:

1. an ``APP`` argument (``nightowl run app:app``) or the ``--app`` option;
2. the ``NIGHTOWL_APP`` environment variable;
3. ``app.py`` or ``main.py`` in the current folder.

An app reference is ``MODULE[:NAME]``. ``MODULE`` is a dotted module name or a path to a
``.py`` file; ``NAME`` is a global of that module or a factory call, ``create_app()``.
Without ``NAME`` the module is searched for ``app``, ``application``, its only ``App``
instance, then a ``create_app()`` or ``make_app()`` factory. The current folder is put
on ``sys.path`` first, so ``app.py`` there imports as ``app``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from nightowl.app import App

__all__ = ["APP_ENV", "AppNotFound", "LocatedApp", "locate_app", "parse_app_ref"]

#: The environment variable naming the app when the command line does not.
APP_ENV = "NIGHTOWL_APP"
_DEFAULT_MODULES = ("app", "main")
_DEFAULT_NAMES = ("app", "application")
_DEFAULT_FACTORIES = ("create_app", "make_app")


class AppNotFound(click.UsageError):
    """No app is named and none is where nightowl looks for one (exit status 2)."""


@dataclass(frozen=True, slots=True)
class LocatedApp:
    """An app found by :func:`locate_app`, with what a server needs to import it again.

    Attributes:
        app: the loaded ASGI app (usually a :class:`nightowl.App`).
        module: the dotted name of the module that defines it.
        attr: the module global holding the app, or the factory returning it.
        factory: ``attr`` is a factory to call with no arguments.
        app_dir: the folder that must be on ``sys.path`` to import ``module``.
    """

    app: Any
    module: str
    attr: str
    factory: bool
    app_dir: Path

    @property
    def import_string(self) -> str:
        """``"module:attr"``, as uvicorn and granian take it."""
        return f"{self.module}:{self.attr}"


def locate_app(ref: str | None = None, cwd: Path | None = None) -> LocatedApp:
    """Find, import and return the app named by ``ref`` (see the module docs for the rules).

    Args:
        ref: ``MODULE[:NAME]``; ``None`` falls back to ``$NIGHTOWL_APP``, then to
            ``app.py`` or ``main.py`` in ``cwd``.
        cwd: the folder to search and to put on ``sys.path`` (the current folder).

    Raises:
        AppNotFound: nothing names an app and there is no ``app.py`` or ``main.py``.
        click.UsageError: the reference is malformed or names something that is not there.
        click.ClickException: the user's module or factory raised an error.
    """
    cwd = (cwd or Path.cwd()).resolve()
    ref = ref or os.environ.get(APP_ENV) or None
    if ref is None:
        for candidate in _DEFAULT_MODULES:
            if (cwd / f"{candidate}.py").is_file() or (cwd / candidate / "__init__.py").is_file():
                ref = candidate
                break
        else:
            raise AppNotFound(
                "Could not find an app. Name one as MODULE:NAME (nightowl run app:app), "
                f"set {APP_ENV}, or run this in a folder with app.py or main.py."
            )
    module_ref, attr_ref = parse_app_ref(ref)
    module_name, app_dir = _module_location(module_ref, cwd)
    module = _import(module_name, app_dir)
    if attr_ref is None:
        attr, factory = _find_in_module(module)
    else:
        attr, factory = _parse_attr(attr_ref)
        if not hasattr(module, attr):
            raise click.UsageError(f"Module {module_name!r} has no attribute {attr!r}.")
        factory = factory or _is_factory(getattr(module, attr))
    app = getattr(module, attr)
    if factory:
        try:
            app = app()
        except Exception as exc:
            from nightowl._frames import format_user_traceback

            raise click.ClickException(
                f"Calling {module_name}:{attr}() failed:\n\n{format_user_traceback(exc).rstrip()}"
            ) from exc
    if not callable(app):
        raise click.UsageError(
            f"{module_name}:{attr} is a {type(app).__name__}, not an ASGI app or an app factory."
        )
    return LocatedApp(app=app, module=module_name, attr=attr, factory=factory, app_dir=app_dir)


def parse_app_ref(ref: str) -> tuple[str, str | None]:
    """Split ``"module:name"`` into its module and name (``None`` when there is no name)."""
    module, sep, attr = ref.rpartition(":")
    # "C:\\dir\\app.py" and "module" have no name part.
    if not sep or "/" in attr or "\\" in attr:
        return ref, None
    if not module or not attr:
        raise click.UsageError(f"{ref!r} is not an app reference: use MODULE or MODULE:NAME.")
    return module, attr


def _module_location(module_ref: str, cwd: Path) -> tuple[str, Path]:
    """The dotted module name and its import folder, for a module name or a file path."""
    if not module_ref.endswith(".py") and "/" not in module_ref and os.sep not in module_ref:
        return module_ref, cwd
    path = (cwd / module_ref).resolve()
    if path.suffix == ".py":
        path = path.with_suffix("")
    if path.name == "__init__":
        path = path.parent
    parts = [path.name]
    folder = path.parent
    # Climb out of packages so that pkg/views.py imports as pkg.views.
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def _import(module_name: str, app_dir: Path) -> ModuleType:
    if str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise click.UsageError(
                f"Could not import {module_name!r}: there is no such module in {app_dir}."
            ) from exc
        raise _import_failed(module_name, exc) from exc
    except Exception as exc:
        raise _import_failed(module_name, exc) from exc


def _import_failed(module_name: str, exc: Exception) -> click.ClickException:
    from nightowl._frames import format_user_traceback

    return click.ClickException(
        f"While importing {module_name!r}, an error was raised:\n\n"
        f"{format_user_traceback(exc).rstrip()}"
    )


def _parse_attr(attr_ref: str) -> tuple[str, bool]:
    """``"app"`` -> ``("app", False)``; ``"create_app()"`` -> ``("create_app", True)``."""
    try:
        expr = ast.parse(attr_ref.strip(), mode="eval").body
    except SyntaxError:
        expr = None
    if isinstance(expr, ast.Name):
        return expr.id, False
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.args or expr.keywords:
            raise click.UsageError(
                f"{attr_ref!r}: an app factory is called without arguments; "
                "let it read its settings from the environment."
            )
        return expr.func.id, True
    raise click.UsageError(f"{attr_ref!r} is neither a name nor a factory call like create_app().")


def _find_in_module(module: ModuleType) -> tuple[str, bool]:
    for name in _DEFAULT_NAMES:
        if callable(getattr(module, name, None)):
            return name, _is_factory(getattr(module, name))
    apps = [name for name, value in vars(module).items() if isinstance(value, App)]
    if len(apps) == 1:
        return apps[0], False
    if len(apps) > 1:
        names = ", ".join(f"{module.__name__}:{name}" for name in apps)
        raise click.UsageError(f"Module {module.__name__!r} has several apps; pick one: {names}.")
    for name in _DEFAULT_FACTORIES:
        if inspect.isfunction(getattr(module, name, None)):
            return name, True
    raise click.UsageError(
        f"Could not find an app in module {module.__name__!r}: define `app = App()` or a "
        "create_app() factory, or name it as MODULE:NAME."
    )


def _is_factory(value: Any) -> bool:
    """A plain function with no required parameters builds an app; an ASGI app takes three."""
    if not inspect.isfunction(value) or inspect.iscoroutinefunction(value):
        return False
    return all(
        param.default is not param.empty or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        for param in inspect.signature(value).parameters.values()
    )
