"""The migrations' history: how migrations are named, and how they follow one another.

A migration's file name is its id too (``0002_add_email``, cut to fit Alembic's version
table), so two branches that each add an ``0002`` give two migrations, not one id for
two. Until a merge migration joins them there are two latest migrations ("heads").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from alembic.script import Script, ScriptDirectory
from alembic.util import to_tuple

__all__ = [
    "MigrationError",
    "back_to",
    "check_one_head",
    "check_readable",
    "heads",
    "in_folder",
    "listed",
    "name_of",
    "next_name",
    "number",
    "resolve",
]

_NUMBERED = re.compile(r"^(\d+)(?:_\w*)?$")
#: The width of Alembic's ``alembic_version.version_num`` column.
_ID_LENGTH = 32
_SLUG_LENGTH = 40


class MigrationError(Exception):
    """A migration command cannot proceed; the message says why and what to do."""


def name_of(script: Script) -> str:
    """The migration's file name without ``.py``."""
    return Path(script.path).stem


def number(name: str) -> int | None:
    """``2`` for ``0002_add_email``, ``0002`` or ``2``; ``None`` when it has no number."""
    numbered = _NUMBERED.match(name)
    return int(numbered.group(1)) if numbered else None


def next_name(script: ScriptDirectory, message: str) -> tuple[str, str]:
    """The next migration's file name (``0002_add_email``) and id, numbered after the others."""
    numbers = [n for s in script.walk_revisions() if (n := number(name_of(s))) is not None]
    slug = "_".join(re.findall(r"\w+", message)).lower()
    if len(slug) > _SLUG_LENGTH:
        slug = slug[:_SLUG_LENGTH].rsplit("_", 1)[0]
    name = "_".join(filter(None, [f"{max(numbers, default=0) + 1:04d}", slug]))
    return name, name[:_ID_LENGTH].rstrip("_")


def check_readable(script: ScriptDirectory) -> None:
    """Read every migration; raise when two share an id or one follows a missing one."""
    with warnings.catch_warnings():
        # Alembic only warns about these, then loses a migration or fails later on.
        warnings.filterwarnings("error", "Revision .* (is present more than once|is not present)")
        try:
            script.get_heads()
        except UserWarning as warning:
            message = str(warning)
            revision = message.split()[1]
            if "more than once" in message:
                raise _duplicate_id(script, revision) from None
            if "is not present" in message:
                raise MigrationError(
                    f"A migration's down_revision is {revision!r}, but no migration has "
                    f"that id ({message})."
                ) from None
            raise


def resolve(script: ScriptDirectory, name: str, versions: Path | None = None) -> Script:
    """A migration by file name or id (``0002_add_email``), or number (``0002``, ``2``).

    With ``versions`` (the project's folder), Alembic's names work too: ``head`` (or
    ``heads``) is the latest of the project's migrations, ``base`` its first.
    """
    if versions is not None and name in ("head", "heads", "base"):
        return _named(script, name, versions)
    every = list(script.walk_revisions())
    for found in every:
        if name in (found.revision, name_of(found)):
            return found
    wanted = number(name)
    if wanted is not None:
        matches = [s for s in every if number(name_of(s)) == wanted]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = listed(sorted(name_of(s) for s in matches))
            raise MigrationError(f"{name!r} could be {names}: give its full name.")
    known = ", ".join(name_of(s) for s in reversed(every)) or "none yet"
    raise MigrationError(f"Unknown migration {name!r}. Migrations: {known}.")


def _named(script: ScriptDirectory, name: str, versions: Path) -> Script:
    """The project's latest (``head``, ``heads``) or first (``base``) migration."""
    own = [s for s in script.walk_revisions() if in_folder(s, versions)]
    if not own:
        raise MigrationError(f"No migrations yet, so no {name!r}: run `nightowl makemigrations`.")
    if name == "base":
        return own[-1]  # walk_revisions goes from the heads down
    check_one_head(script, versions)
    return heads(script, versions)[0]


def heads(script: ScriptDirectory, versions: Path | None = None) -> list[Script]:
    """The latest migrations: one, unless branches added some that are not merged yet.

    With ``versions``, only those in that folder (the project's, leaving out the
    batteries' migrations, which are separate branches by design).
    """
    found = [script.get_revision(head) for head in script.get_heads()]
    return sorted(
        (h for h in found if h is not None and (versions is None or in_folder(h, versions))),
        key=name_of,
    )


def in_folder(script: Script, versions: Path) -> bool:
    """Whether the migration's file is in the ``versions`` folder."""
    return Path(script.path).resolve().parent == versions.resolve()


def check_one_head(script: ScriptDirectory, versions: Path | None = None) -> None:
    """Raise, saying to merge them, when branches left several latest migrations."""
    latest = heads(script, versions)
    if len(latest) > 1:
        raise MigrationError(
            f"Conflicting migrations detected: {listed([name_of(h) for h in latest])} were "
            "made on separate branches and are each the latest. Run "
            "`nightowl makemigrations --merge` to merge them."
        )


def back_to(script: ScriptDirectory, current: Sequence[str], steps: int) -> str:
    """Where to go down to from ``current``, to unapply the last ``steps`` migrations.

    Alembic cannot count back through a merge; this can, as long as the way back does
    not fork: a merge migration counts as one, and the branches it merged stay.
    """
    revisions = tuple(current)
    last = None
    for _ in range(steps):
        if len(revisions) > 1:
            raise MigrationError(
                f"Cannot go back {steps}: the way back forks at {_names(script, revisions)}, "
                "made on separate branches. Name the migration to go back to instead "
                "(`nightowl migrate 0001`)."
            )
        last = revisions[0]
        found = script.get_revision(last)
        revisions = to_tuple(found.down_revision, default=()) if found is not None else ()
    # Going down to either migration that a merge joined unapplies only what follows it.
    if revisions:
        return revisions[0]
    # The base of this branch only: the batteries' migrations, on branches of their own, stay.
    return f"{last}@base" if last is not None else "base"


def listed(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _names(script: ScriptDirectory, revisions: Sequence[str]) -> str:
    found = [script.get_revision(revision) for revision in revisions]
    return listed(sorted(name_of(s) if s is not None else "?" for s in found))


def _duplicate_id(script: ScriptDirectory, revision: str) -> MigrationError:
    """What to do about two migrations with one id: made on separate branches before
    migrations were named after their file, they both took the next number."""
    declares = re.compile(rf"^revision\b[^=\n]*=\s*['\"]{re.escape(revision)}['\"]", re.M)
    files = sorted(
        p.name for p in Path(script.versions).glob("*.py") if declares.search(p.read_text())
    )
    return MigrationError(
        f"Migrations {listed(files)} have the same id, {revision!r} (they were made on "
        "separate branches). Give one of them another id (its `revision = ...`, and the "
        "`down_revision` of the migrations that follow it), then run "
        "`nightowl makemigrations --merge`."
    )
