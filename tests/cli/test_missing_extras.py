"""A default install (no ``db`` or ``auth`` extra) is quiet and says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nightowl._extras import _origin, extras_missing, install_command
from tests.cli.conftest import NIGHTOWL

#: Run the CLI as if SQLAlchemy, Alembic and argon2 were not installed.
WITHOUT_EXTRAS = """
import sys
for name in ("sqlalchemy", "alembic", "argon2", "pydantic_settings"):
    sys.modules[name] = None
from nightowl.cli import main
main(sys.argv[1:])
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NIGHTOWL_APP"}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_missing_commands_with_the_install_command(tmp_path: Path) -> None:
    result = _cli("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warnings
    commands, _, epilog = result.stdout.partition("Not installed")
    assert "migrate" not in commands
    assert "makemigrations, migrate, showmigrations, sqlmigrate:" in epilog
    assert install_command("db", cwd=tmp_path) in epilog
    assert "changepassword, createapikey, createsuperuser:" in epilog
    assert install_command("auth", cwd=tmp_path) in epilog


def test_running_a_missing_command_says_what_to_install(tmp_path: Path) -> None:
    result = _cli("migrate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: nightowl migrate needs the 'db' extra, which is not installed: "
        f"{install_command('db', cwd=tmp_path)}"
    )


def test_built_in_commands_run_without_warnings(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from nightowl import App\napp = App()\n@app.get('/')\ndef home():\n    return {}\n"
    )
    result = _cli("routes", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_new_prints_the_command_that_installs_what_the_project_needs(tmp_path: Path) -> None:
    result = _cli("new", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].split("#")[0].strip() == install_command("db", cwd=tmp_path)
    assert lines[3].strip() == "cd demo"


def test_with_the_extra_new_prints_no_install_command(tmp_path: Path) -> None:
    assert extras_missing("db") == []
    result = subprocess.run(
        [NIGHTOWL, "new", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install" not in result.stdout


def test_install_command_from_a_checkout_names_it() -> None:
    checkout = Path(__file__).parents[2]
    if _origin() != (str(checkout), True):
        pytest.skip("nightowl is not installed editably from this checkout")
    assert install_command("db", cwd=checkout) == 'pip install -e ".[db]"'
    assert install_command("db", "auth", cwd=checkout.parent) == (
        f'pip install -e "{checkout}[db,auth]"'
    )


def test_the_generated_readme_installs_from_where_nightowl_came_from(tmp_path: Path) -> None:
    from nightowl.scaffold import create_project

    target = create_project("demo", tmp_path / "demo")
    readme = (target / "README.md").read_text()
    assert f"{install_command('db', cwd=target)} pytest" in readme
    assert "{{" not in readme
