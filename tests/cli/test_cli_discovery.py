"""How ``nightowl`` finds the app, and the one-line errors when it cannot."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from nightowl.cli.discovery import parse_app_ref

NightowlRunner = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, str], Path]


def named_app(title: str, name: str = "app") -> str:
    """A module whose app answers GET /<title> with a handler named after ``title``."""
    return (
        "from nightowl import App\n\n"
        f"{name} = App()\n\n\n"
        f"@{name}.get('/{title}')\n"
        f"def {title}():\n"
        "    return {}\n"
    )


FACTORY = (
    "from nightowl import App\n\n\n"
    "def create_app():\n"
    "    app = App()\n"
    "    app.get('/made')(lambda: {})\n"
    "    return app\n"
)


def assert_clean_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """The command failed with ``code`` and a readable message, not a traceback."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert "Error: " in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_app_py_in_current_folder(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", named_app("from_app_py"))

    result = nightowl("routes")

    assert result.returncode == 0, result.stderr
    assert "/from_app_py" in result.stdout


def test_main_py_with_application_name(nightowl: NightowlRunner, write: Write) -> None:
    write("main.py", named_app("from_main_py", name="application"))

    result = nightowl("routes")

    assert result.returncode == 0, result.stderr
    assert "/from_main_py" in result.stdout


def test_nightowl_app_env_wins_over_app_py(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", named_app("from_app_py"))
    write("project.py", named_app("from_env", name="api"))

    result = nightowl("routes", env={"NIGHTOWL_APP": "project:api"})

    assert result.returncode == 0, result.stderr
    assert "/from_env" in result.stdout
    assert "/from_app_py" not in result.stdout


def test_argument_wins_over_app_option_and_env(nightowl: NightowlRunner, write: Write) -> None:
    write("first.py", named_app("first"))
    write("second.py", named_app("second"))
    write("third.py", named_app("third"))

    by_option = nightowl("--app", "second", "routes", env={"NIGHTOWL_APP": "third"})
    by_argument = nightowl("--app", "second", "routes", "first:app")

    assert "/second" in by_option.stdout
    assert "/first" in by_argument.stdout


def test_create_app_factory_is_found(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", FACTORY)

    implicit = nightowl("routes")
    explicit = nightowl("routes", "app:create_app()")

    assert implicit.returncode == 0, implicit.stderr
    assert "/made" in implicit.stdout
    assert explicit.returncode == 0, explicit.stderr
    assert "/made" in explicit.stdout


def test_module_alone_finds_its_only_app(nightowl: NightowlRunner, write: Write) -> None:
    write("webapp.py", named_app("only", name="api"))

    result = nightowl("routes", "webapp")

    assert result.returncode == 0, result.stderr
    assert "/only" in result.stdout


def test_file_path_inside_a_package(nightowl: NightowlRunner, write: Write) -> None:
    write("pkg/__init__.py", "")
    write("pkg/views.py", "from pkg.helpers import TITLE\n" + named_app("in_package"))
    write("pkg/helpers.py", "TITLE = 'x'\n")

    result = nightowl("routes", "pkg/views.py:app")

    assert result.returncode == 0, result.stderr
    assert "pkg.views.in_package" in result.stdout


def test_no_app_anywhere(nightowl: NightowlRunner) -> None:
    result = nightowl("routes")

    assert_clean_error(result, 2, "Could not find an app", "NIGHTOWL_APP", "app.py")


def test_import_error_in_the_users_module(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "import missing_dependency\n")

    result = nightowl("routes")

    assert_clean_error(result, 1, "While importing 'app'", "No module named 'missing_dependency'")


def test_syntax_error_in_the_users_module(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "def broken(:\n")

    result = nightowl("routes")

    assert_clean_error(result, 1, "SyntaxError", "line 1")


def test_missing_attribute(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", named_app("x"))

    result = nightowl("routes", "app:nope")

    assert_clean_error(result, 2, "Module 'app' has no attribute 'nope'")


def test_missing_module(nightowl: NightowlRunner) -> None:
    result = nightowl("routes", "nosuchmodule:app")

    assert_clean_error(result, 2, "Could not import 'nosuchmodule'")


def test_module_without_an_app(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "X = 1\n")

    result = nightowl("routes")

    assert_clean_error(result, 2, "Could not find an app in module 'app'")


def test_several_apps_must_be_named(nightowl: NightowlRunner, write: Write) -> None:
    write("multi.py", "from nightowl import App\n\npublic = App()\nadmin = App()\n")

    result = nightowl("routes", "multi")

    assert_clean_error(result, 2, "multi:public", "multi:admin")


def test_not_callable(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "settings = {'debug': True}\n")

    result = nightowl("routes", "app:settings")

    assert_clean_error(result, 2, "is a dict, not an ASGI app")


def test_factory_arguments_are_refused(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", FACTORY)

    result = nightowl("routes", "app:create_app('prod')")

    assert_clean_error(result, 2, "called without arguments")


def test_failing_factory(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "def create_app():\n    raise KeyError('DATABASE_URL')\n")

    result = nightowl("routes")

    assert_clean_error(result, 1, "Calling app:create_app() failed", "KeyError")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("app", ("app", None)),
        ("app:api", ("app", "api")),
        ("pkg.mod:create_app()", ("pkg.mod", "create_app()")),
        ("src/app.py", ("src/app.py", None)),
        ("C:\\site\\app.py", ("C:\\site\\app.py", None)),
    ],
)
def test_parse_app_ref(ref: str, expected: tuple[str, str | None]) -> None:
    assert parse_app_ref(ref) == expected


def test_parse_app_ref_rejects_empty_parts() -> None:
    with pytest.raises(click.UsageError):
        parse_app_ref(":app")


def test_an_error_in_an_imported_module_shows_the_users_lines(
    nightowl: NightowlRunner, write: Write
) -> None:
    write("models.py", "class Note:\n    colour: int = Colour\n")
    write("app.py", "from nightowl import App\nimport models\napp = App()\n")

    result = nightowl("routes")

    assert_clean_error(result, 1, "While importing 'app'")
    lines = result.stderr.splitlines()
    assert lines[2] == "In your code (most recent call last):"
    assert lines[3].endswith('app.py", line 2, in <module>') and lines[4].strip() == "import models"
    assert 'models.py", line 2, in Note' in result.stderr
    assert "colour: int = Colour" in result.stderr
    assert result.stderr.count("NameError: name 'Colour' is not defined") == 1
    assert "importlib" not in result.stderr and "nightowl/" not in result.stderr


def test_a_failing_factory_shows_the_users_lines(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "def create_app():\n    return {}['missing']\n")

    result = nightowl("routes")

    assert_clean_error(result, 1, "Calling app:create_app() failed", "return {}['missing']")
    assert "KeyError: 'missing'" in result.stderr
