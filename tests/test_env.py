"""Settings from the environment and ``.env``: arguments win, then the environment, then ``.env``."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

from nightowl import App
from nightowl._env import read_dotenv
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.cli.conftest import NIGHTOWL

_VARIABLES = ("DEBUG", "SECRET_KEY", "NIGHTOWL_SECRET_KEY", "DATABASE_URL", "NIGHTOWL_SESSIONS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _app_module(folder: Path, source: str, dotenv: str | None = None) -> Any:
    """Import ``folder/app.py`` (with ``source``) as a user's module, next to its ``.env``."""
    folder.mkdir(parents=True, exist_ok=True)
    if dotenv is not None:
        (folder / ".env").write_text(dotenv)
    path = folder / "app.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"envapp_{abs(hash(folder))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_debug_comes_from_the_env_file_next_to_the_app(tmp_path: Path) -> None:
    module = _app_module(tmp_path, "from nightowl import App\napp = App()\n", "DEBUG=true\n")
    assert module.app.debug is True
    assert module.app.env["DEBUG"] == "true"


def test_arguments_win_then_the_environment_then_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = "from nightowl import App\napp = App()\nforced = App(debug=False)\n"
    monkeypatch.setenv("DEBUG", "false")
    module = _app_module(tmp_path, source, "DEBUG=true\n")
    assert module.app.debug is False  # the environment over .env
    monkeypatch.setenv("DEBUG", "1")
    module = _app_module(tmp_path / "again", source, "DEBUG=false\n")
    assert module.app.debug is True
    assert module.forced.debug is False  # the argument over both


def test_secret_key_and_sessions_from_the_env_file(tmp_path: Path) -> None:
    source = (
        "from nightowl import App, Request\n"
        "app = App()\n"
        "@app.get('/visit')\n"
        "def visit(request: Request):\n"
        "    request.session['n'] = request.session.get('n', 0) + 1\n"
        "    return {'n': request.session['n']}\n"
    )
    dotenv = (
        "# settings\nexport SECRET_KEY='a-long-enough-secret-for-tests'\nNIGHTOWL_SESSIONS=true\n"
    )
    module = _app_module(tmp_path, source, dotenv)
    assert module.app.config["secret_key"] == "a-long-enough-secret-for-tests"
    with TestClient(module.app) as client:
        assert client.get("/visit").json() == {"n": 1}
        assert client.get("/visit").json() == {"n": 2}


def test_database_url_from_the_env_file(tmp_path: Path) -> None:
    database = tmp_path / "from-dotenv.db"
    module = _app_module(
        tmp_path,
        "from nightowl import App\napp = App(database=True)\n",
        f'DATABASE_URL="sqlite:///{database}"  \n',
    )
    assert module.app.state.database.url.database == str(database)


def test_env_file_none_reads_no_file(tmp_path: Path) -> None:
    module = _app_module(
        tmp_path, "from nightowl import App\napp = App(env_file=None)\n", "DEBUG=true\n"
    )
    assert module.app.debug is False
    assert "DEBUG" not in module.app.env


def test_a_bad_boolean_names_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' \(from .*\.env\)"):
        _app_module(tmp_path, "from nightowl import App\napp = App()\n", "DEBUG=maybe\n")


def test_dotenv_syntax(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\n\nA=1\nexport B = two words # note\nC='# kept'\nD=\"x=y\"\nE=\n")
    assert read_dotenv(path) == {"A": "1", "B": "two words", "C": "# kept", "D": "x=y", "E": ""}
    assert read_dotenv(tmp_path / "missing") == {}
    path.write_text("A=1\nnot a line\n")
    with pytest.raises(ImproperlyConfigured, match=r"line 2: expected NAME=value"):
        read_dotenv(path)


def test_the_missing_secret_key_message_mentions_env(tmp_path: Path) -> None:
    app = App(sessions=True, env_file=None)
    message = r"SECRET_KEY=\.\.\. to the \.env file"
    with pytest.raises(ImproperlyConfigured, match=message), TestClient(app):
        pass


def test_the_cli_reads_the_env_file_of_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "webapp.py").write_text(
        "import os\nfrom nightowl import App\napp = App(title=os.environ['TITLE'])\n"
        "@app.get('/')\ndef home():\n    return {}\n"
    )
    (tmp_path / ".env").write_text("NIGHTOWL_APP=webapp:app\nTITLE=from-dotenv\n")
    result = subprocess.run(
        [NIGHTOWL, "openapi"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert '"title": "from-dotenv"' in result.stdout
    (tmp_path / ".env").write_text("oops\n")
    result = subprocess.run(
        [NIGHTOWL, "routes"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "line 1: expected NAME=value" in result.stderr
