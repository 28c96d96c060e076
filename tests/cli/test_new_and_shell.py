"""``nightowl new`` makes a project that migrates and passes its tests; ``nightowl shell`` opens on it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import NIGHTOWL

Run = Callable[..., subprocess.CompletedProcess[str]]
_CLEAN = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "DEBUG", "NIGHTOWL_APP")

CRUD_CHECK = """
from nightowl.testing import TestClient
from app import app

with TestClient(app) as client:
    created = client.post("/api/notes", json={"title": "first", "body": "hello"})
    assert created.status_code == 201, created.text
    note = created.json()
    assert client.patch(f"/api/notes/{note['id']}", json={"done": True}).json()["done"] is True
    assert [n["title"] for n in client.get("/api/notes").json()] == ["first"]
    assert client.get("/").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    print("crud ok")
"""


def _python(
    args: list[str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, *args], cwd, stdin)


def _nightowl(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return _run([NIGHTOWL, *args], cwd, stdin)


def _run(args: list[str], cwd: Path, stdin: str | None) -> subprocess.CompletedProcess[str]:
    """Run ``args`` in ``cwd`` without the settings of the environment running these tests."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEAN}
    return subprocess.run(
        args,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = _nightowl("new", "mysite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "cd mysite" in result.stdout
    return tmp_path / "mysite"


@pytest.mark.slow
def test_new_project_migrates_and_passes_its_tests(project: Path) -> None:
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()} >= {
        "app.py",
        "models.py",
        "settings.py",
        "README.md",
        ".env",
        ".env.example",
        ".gitignore",
        "pyproject.toml",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial.py",
        "templates/index.html",
        "static/style.css",
        "tests/conftest.py",
        "tests/test_notes.py",
    }
    assert "SECRET_KEY=" in (project / ".env").read_text()
    assert "mysite" in (project / "app.py").read_text()

    def in_project(*args: str) -> subprocess.CompletedProcess[str]:
        return _nightowl(*args, cwd=project)

    assert in_project("showmigrations").stdout == "[ ] 0001_initial\n"
    assert in_project("migrate").stdout == "  Applying 0001_initial... OK\n"
    # The shipped migration matches the shipped models.
    assert in_project("makemigrations").stdout == "No changes detected\n"
    assert (project / "app.db").is_file()

    tests = _python(["-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout

    crud = _python(["-c", CRUD_CHECK], project)
    assert crud.returncode == 0, crud.stderr
    assert crud.stdout == "crud ok\n"


def test_new_refuses_a_bad_name_or_a_used_folder(tmp_path: Path, nightowl: Run) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("mine")
    result = nightowl("new", "taken")
    assert result.returncode == 1
    assert "taken already exists and is not empty" in result.stderr
    result = nightowl("new", "9lives")
    assert result.returncode == 1
    assert "not a usable project name" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_shell_has_the_app_the_session_and_the_models(project: Path) -> None:
    assert _nightowl("migrate", cwd=project).returncode == 0
    commands = (
        "db.add(Note(title='from the shell'))\n"
        "db.commit()\n"
        "print(app.title, Model.__name__, db.query(Note).count())\n"
    )
    result = _nightowl("shell", "--plain", cwd=project, stdin=commands)
    assert result.returncode == 0, result.stderr
    assert "mysite Model 1" in result.stdout
    assert "Ready: app, database, db" in result.stderr
    result = _nightowl("shell", "-c", "print(db.get(Note, 1).title)", cwd=project)
    assert result.stdout == "from the shell\n", result.stderr


def test_shell_without_a_database(write: Callable[[str, str], Path], nightowl: Run) -> None:
    write("app.py", "from nightowl import App\napp = App(title='plain')\n")
    result = nightowl("shell", "-c", "print(app.title, 'db' in dir())")
    assert result.stdout == "plain False\n", result.stderr
