"""Migrations made on two branches: the conflict is reported, merged, and migrates both ways."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nightowl.db import NAMING_CONVENTION, Database
from nightowl.db.migrations import MigrationError, Migrations
from tests.db.migrations.test_migrations import (
    _columns,
    _fails,
    _ok,
    _tables,
    databases,
    folder,
    nightowl,
    write,
)

__all__ = ["databases", "folder", "nightowl", "write"]  # fixtures

Run = Callable[..., subprocess.CompletedProcess[str]]

CONFLICT = (
    "Conflicting migrations detected: 0002_add_pinned and 0002_add_tags were made on "
    "separate branches and are each the latest. Run `nightowl makemigrations --merge` "
    "to merge them."
)


def notes(*, pins: bool = False, tags: bool = False) -> MetaData:
    """Notes; one branch pins them, the other adds tags."""

    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    class Note(Base):
        __tablename__ = "note"
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str] = mapped_column(String(200))
        if pins:
            pinned: Mapped[bool] = mapped_column(default=False, server_default="0")

    if tags:

        class Tag(Base):
            __tablename__ = "tag"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String(30))

    return Base.metadata


def _branches(databases: Callable[[MetaData], Database], folder: Path) -> None:
    """0001, then 0002_add_pinned and 0002_add_tags, each made after 0001 on its own branch."""
    start = databases(notes())
    Migrations(start).make()
    Migrations(start).migrate()
    pinned = Migrations(databases(notes(pins=True))).make("add pinned")
    assert pinned is not None
    aside = pinned.rename(folder / "aside.py")  # on the other branch for now
    assert Migrations(databases(notes(tags=True))).make("add tags") is not None
    aside.rename(pinned)


def test_branches_are_merged(databases: Callable[[MetaData], Database], folder: Path) -> None:
    _branches(databases, folder)
    merged = databases(notes(pins=True, tags=True))
    migrations = Migrations(merged)
    with pytest.raises(MigrationError) as made:
        migrations.make()
    assert str(made.value) == CONFLICT
    with pytest.raises(MigrationError) as migrated:
        migrations.migrate()
    assert str(migrated.value) == CONFLICT
    assert sorted((m.name, m.applied) for m in migrations.status()) == [
        ("0001_initial", True),
        ("0002_add_pinned", False),
        ("0002_add_tags", False),
    ]
    with pytest.raises(MigrationError, match="'0002' could be 0002_add_pinned and 0002_add_tags"):
        migrations.migrate("0002")

    merge = migrations.merge()
    assert merge == folder / "versions" / "0003_merge_0002_add_pinned_0002_add_tags.py"
    assert "down_revision = ('0002_add_pinned', '0002_add_tags')" in merge.read_text()
    assert migrations.operations == ["merge 0002_add_pinned", "merge 0002_add_tags"]
    assert migrations.merge() is None  # no conflicts left

    steps = migrations.migrate()
    assert sorted(steps[:2]) == [("0002_add_pinned", True), ("0002_add_tags", True)]
    assert steps[2:] == [("0003_merge_0002_add_pinned_0002_add_tags", True)]
    assert _tables(merged) == {"alembic_version", "note", "tag"}
    assert _columns(merged, "note") == ["id", "text", "pinned"]
    assert migrations.make() is None  # the models and the database agree

    # Back one unapplies the merge; further back by a number would have to pick a branch.
    assert migrations.migrate("-1") == [("0003_merge_0002_add_pinned_0002_add_tags", False)]
    with pytest.raises(MigrationError, match="Cannot go back 1: the way back forks at 0002_add"):
        migrations.migrate("-1")
    assert migrations.migrate("0002_add_tags") == []
    assert sorted(migrations.migrate("0001")) == [
        ("0002_add_pinned", False),
        ("0002_add_tags", False),
    ]
    assert _tables(merged) == {"alembic_version", "note"}

    assert len(migrations.migrate()) == 3
    assert len(migrations.migrate("zero")) == 4
    assert _tables(merged) == {"alembic_version"}
    assert len(migrations.migrate()) == 4
    assert _tables(merged) == {"alembic_version", "note", "tag"}


def test_migrations_sharing_an_id_are_reported(
    databases: Callable[[MetaData], Database], folder: Path
) -> None:
    migrations = Migrations(databases(notes()))
    migrations.make("first", empty=True)
    second = migrations.make("second", empty=True)
    assert second is not None
    # Migrations used to take their number as their id: two branches would both have 0002.
    source = second.read_text().replace("revision = '0002_second'", "revision = '0002'")
    for name in ("0002_add_pinned.py", "0002_add_tags.py"):
        (folder / "versions" / name).write_text(source)
    second.unlink()
    with pytest.raises(
        MigrationError,
        match=r"Migrations 0002_add_pinned.py and 0002_add_tags.py have the same id, '0002'",
    ):
        migrations.status()


# -- the commands ---------------------------------------------------------------------------

NOTE = """
from sqlalchemy import String
from nightowl.db import Mapped, Model, mapped_column

class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
"""
PINNED = "    pinned: Mapped[bool] = mapped_column(default=False, server_default='0')\n"
TAG = """
class Tag(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
"""
APP = """
from nightowl import App
import models

app = App(database="sqlite:///notes.db")
"""


@pytest.mark.slow
def test_makemigrations_merge(
    write: Callable[[str, str], Path], tmp_path: Path, nightowl: Run
) -> None:
    write("app.py", APP)
    models = write("models.py", NOTE)
    _ok(nightowl("makemigrations"))
    _ok(nightowl("migrate"))
    versions = tmp_path / "migrations" / "versions"
    models.write_text(NOTE + PINNED)
    _ok(nightowl("makemigrations", "-m", "add pinned"))
    (versions / "0002_add_pinned.py").rename(tmp_path / "aside.py")
    models.write_text(NOTE + TAG)
    _ok(nightowl("makemigrations", "-m", "add tags"))
    (tmp_path / "aside.py").rename(versions / "0002_add_pinned.py")
    models.write_text(NOTE + PINNED + TAG)

    _fails(nightowl("migrate"), CONFLICT)
    _fails(nightowl("makemigrations"), CONFLICT)
    assert sorted(_ok(nightowl("showmigrations")).splitlines()) == [
        "[ ] 0002_add_pinned",
        "[ ] 0002_add_tags",
        "[X] 0001_initial",
    ]
    assert _ok(nightowl("makemigrations", "--merge")).splitlines() == [
        f"Created {Path('migrations', 'versions', '0003_merge_0002_add_pinned_0002_add_tags.py')}",
        "  - merge 0002_add_pinned",
        "  - merge 0002_add_tags",
    ]
    assert _ok(nightowl("makemigrations", "--merge")) == "No conflicts detected to merge.\n"
    applied = _ok(nightowl("migrate")).splitlines()
    assert applied[-1] == "  Applying 0003_merge_0002_add_pinned_0002_add_tags... OK"
    assert len(applied) == 3
    assert _ok(nightowl("makemigrations")) == "No changes detected\n"
    assert _ok(nightowl("migrate", "zero")).count("Unapplying") == 4
    assert _ok(nightowl("migrate")).count("Applying") == 4

    merge_and_empty = nightowl("makemigrations", "--merge", "--empty")
    assert merge_and_empty.returncode == 2
    assert "--merge and --empty cannot be used together" in merge_and_empty.stderr
