"""``nightowl new NAME``: a project that runs, migrates and passes its own tests at once.

The project's files live in ``project/`` next to this module, as plain files in which
``{{ name }}`` is replaced by the project's name. Files that Python or git would pick up
from nightowl's own tree are stored under other names: ``app.py-tpl`` becomes
``app.py``, ``dot-gitignore`` becomes ``.gitignore``. Nothing is downloaded.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from nightowl._extras import install_command
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["PROJECT_TEMPLATE", "create_project"]

#: The files of a new project.
PROJECT_TEMPLATE = Path(__file__).parent / "project"
#: The environment's migrations files, owned by the database battery (copied, not imported).
_MIGRATIONS_TEMPLATE = Path(__file__).parent.parent / "db" / "migrations" / "templates"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_TEXT_SUFFIXES = {".py", ".md", ".toml", ".html", ".css", ".txt", ".example", ".mako", ""}


def create_project(name: str, directory: str | Path | None = None) -> Path:
    """Create the project ``name`` in ``directory`` (``./name`` by default) and return its folder.

    The folder must not exist, or be empty. A ``.env`` with a fresh ``SECRET_KEY`` and
    ``DEBUG=true`` is written for development.

    Raises:
        ImproperlyConfigured: the name is not usable or the folder is not empty.
    """
    if not _NAME.match(name):
        raise ImproperlyConfigured(
            f"{name!r} is not a usable project name: use letters, digits, '_' and '-', "
            "starting with a letter."
        )
    target = Path(directory) if directory is not None else Path(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ImproperlyConfigured(f"{target} already exists and is not empty.")
    for source in sorted(PROJECT_TEMPLATE.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        relative = source.relative_to(PROJECT_TEMPLATE)
        _copy(source, target / _rename(relative), name)
    for extra in ("env.py", "script.py.mako", "README"):
        _copy(_MIGRATIONS_TEMPLATE / extra, target / "migrations" / extra, name)
    readme = target / "README.md"
    # How nightowl was installed here (a checkout, a wheel, an index), not a guess.
    readme.write_text(
        readme.read_text().replace("{{ install }}", install_command("db", cwd=target))
    )
    (target / ".env").write_text(
        f"# Development settings; not committed (see .gitignore).\n"
        f"SECRET_KEY={secrets.token_urlsafe(48)}\n"
        f"DEBUG=true\n"
    )
    return target


def _rename(relative: Path) -> Path:
    name = relative.name.removesuffix("-tpl")
    if name.startswith("dot-"):
        name = "." + name.removeprefix("dot-")
    return relative.with_name(name)


def _copy(source: Path, destination: Path, name: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.suffix in _TEXT_SUFFIXES or source.name.endswith("-tpl"):
        destination.write_text(source.read_text().replace("{{ name }}", name))
    else:
        shutil.copyfile(source, destination)
