"""Settings from the environment and from a ``.env`` file: what ``app.env`` reads.

The precedence is the one Django, Flask and pydantic-settings users expect: an argument
given to ``App(...)`` wins, then a variable of the process's environment, then a line of
the ``.env`` file next to the app (the folder of the file that created the ``App``, else
the current folder). ``.env`` lines are ``NAME=value``, with ``#`` comments, an optional
``export`` in front and optional quotes around the value; the file is read once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from nightowl.exceptions import ImproperlyConfigured

__all__ = ["Environment", "caller_folder", "folder_options", "options_from_env", "read_dotenv"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read_dotenv(path: str | os.PathLike[str]) -> dict[str, str]:
    """The variables a ``.env`` file sets (an empty dict when there is no such file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not name.replace("_", "a").isalnum():
            raise ImproperlyConfigured(
                f"{path}, line {number}: expected NAME=value, not {raw.strip()!r}."
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()  # a comment after an unquoted value
        found[name] = value
    return found


def caller_folder() -> Path:
    """The folder of the first file up the stack outside nightowl (where ``App()`` was
    written), or the current folder when there is none (an interactive session)."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "nightowl" and not module.startswith("nightowl."):
            filename = frame.f_globals.get("__file__")
            if filename:
                return Path(filename).resolve().parent
            break
        frame = frame.f_back  # type: ignore[assignment]
    return Path.cwd()


class Environment(Mapping[str, str]):
    """The process's environment over a ``.env`` file: ``env["SECRET_KEY"]``, ``env.flag("DEBUG")``.

    Args:
        dotenv: the ``.env`` file, or ``None`` for none.
    """

    def __init__(self, dotenv: str | os.PathLike[str] | None) -> None:
        self.dotenv = Path(dotenv) if dotenv is not None else None
        self.file: dict[str, str] = read_dotenv(self.dotenv) if self.dotenv is not None else {}

    def __getitem__(self, name: str) -> str:
        value = os.environ.get(name)
        if value is not None:
            return value
        return self.file[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.file, **os.environ})

    def __len__(self) -> int:
        return len({**self.file, **os.environ})

    def source(self, name: str) -> str:
        """Where ``name`` comes from, for messages: ``the environment`` or the file."""
        return "the environment" if name in os.environ else str(self.dotenv)

    def flag(self, name: str, default: bool = False) -> bool:
        """``name`` as a boolean (``1``, ``true``, ``yes``, ``on`` and their opposites)."""
        value = self.get(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} (from {self.source(name)}) is not a boolean: use true or false."
        )


#: ``NIGHTOWL_*`` variables that are not options of a battery.
_NOT_OPTIONS = {"app", "threads", "secret_key", "debug"}


def options_from_env(
    env: Mapping[str, str], config: dict[str, Any], options: Callable[[], Mapping[str, Any]]
) -> dict[str, Any]:
    """``config`` (``App()``'s battery options) plus those only ``env`` gives: ``SECRET_KEY``
    (or ``NIGHTOWL_SECRET_KEY``) for ``secret_key``, ``NIGHTOWL_<OPTION>`` for the others
    among ``options()``; ``true`` and ``false`` become booleans."""
    found: dict[str, Any] = {}
    if "secret_key" not in config:
        key = env.get("NIGHTOWL_SECRET_KEY") or env.get("SECRET_KEY")
        if key:
            found["secret_key"] = key
    named = {
        name[9:].lower(): value
        for name, value in env.items()
        if name.startswith("NIGHTOWL_") and name[9:].lower() not in _NOT_OPTIONS
    }
    if named:
        known = options()
        for option, value in named.items():
            if option in known and option not in config:
                lowered = value.strip().lower()
                found[option] = {"true": True, "false": False}.get(lowered, value)
    return {**found, **config} if found else config


def folder_options(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` plus ``templates`` when no templates were given and the default folder
    that ``render()`` reads exists (``templates/`` next to the main script, else in the
    working directory): the pages it renders get sessions and CSRF tokens with them."""
    if "templates" in config:
        return config
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    folders = [Path(main).resolve().parent] if main else []
    for folder in [*folders, Path.cwd()]:
        if (folder / "templates").is_dir():
            return {**config, "templates": folder / "templates"}
    return config
