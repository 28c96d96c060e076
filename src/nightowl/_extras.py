"""The command that installs one of nightowl's extras, as this copy of nightowl was installed.

``pip install "nightowl[db]"`` only works where a package index serves nightowl. A copy
installed from a checkout (``pip install -e .``) or from a wheel file needs that checkout or
that file named instead, so messages about a missing extra are built here, from the
installed distribution's ``direct_url.json`` (PEP 610).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["EXTRA_OF", "extras_missing", "install_command"]

#: A battery's package -> the extra that installs what it imports.
EXTRA_OF = {"nightowl.db": "db", "nightowl.auth": "auth"}

#: Extra -> modules it installs that nightowl checks for (``nightowl new`` needs ``db``).
_MODULES_OF = {
    "db": ("sqlalchemy", "alembic", "pydantic_settings"),
    "auth": ("sqlalchemy", "alembic", "argon2"),
}


def install_command(*extras: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """The pip command that installs ``extras`` for the nightowl in use.

    From a checkout installed with ``pip install -e .`` it is
    ``pip install -e ".[db]"`` (the checkout's path when run from another folder than
    ``cwd``, the current one by default);
    from a wheel or archive file, that file; otherwise the package index's
    ``pip install "nightowl[db]"``.
    """
    names = ",".join(extras)
    origin = _origin()
    if origin is None:
        return f'pip install "nightowl[{names}]"'
    location, editable = origin
    if location.endswith((".whl", ".tar.gz", ".zip")):
        return f'pip install "nightowl[{names}] @ {Path(location).as_uri()}"'
    shown = "." if _same(location, os.fspath(cwd) if cwd is not None else os.getcwd()) else location
    flag = "-e " if editable else ""
    return f'pip install {flag}"{shown}[{names}]"'


def extras_missing(*extras: str) -> list[str]:
    """The extras among ``extras`` that are not installed (a module of theirs is missing)."""
    from importlib.util import find_spec

    missing = []
    for extra in extras:
        if any(find_spec(module) is None for module in _MODULES_OF.get(extra, ())):
            missing.append(extra)
    return missing


def _origin() -> tuple[str, bool] | None:
    """Where nightowl was installed from (a folder or a file) and whether editably."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("nightowl").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    url = urlparse(str(data.get("url", "")))
    if url.scheme != "file":
        return None
    editable = bool(data.get("dir_info", {}).get("editable"))
    return unquote(url.path), editable


def _same(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False
