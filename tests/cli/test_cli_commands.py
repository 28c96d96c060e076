"""``nightowl --help``, ``nightowl routes`` and commands added by apps and packages."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

NightowlRunner = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, str], Path]

ROUTES_APP = """
from nightowl import App, Router, WebSocket

app = App()
api = Router(prefix="/api")


@app.get("/")
def home():
    return {}


@app.route("/posts/<slug>", methods=["GET", "POST"], name="post-detail")
def post_detail(slug: str):
    return {}


@api.delete("/users/{user_id}")
async def delete_user(user_id: int):
    return {}


@app.websocket("/ws")
async def chat(websocket: WebSocket):
    await websocket.accept()


app.include(api)
"""

APP_WITH_COMMAND = """
import click

from nightowl import App
from nightowl.cli import pass_app

app = App(title="Owl Shop")


@click.command()
def seed():
    '''Fill the database with sample rows.'''
    click.echo("seeded")


@click.command()
@click.argument("who")
@pass_app
def greet(app, who):
    '''Greet someone on behalf of the app.'''
    click.echo(f"{app.title} greets {who}")


app.add_command(seed)
app.add_command(greet)
"""

PLUGIN = """
import click


@click.command()
def owlstats():
    '''A command from an installed package.'''
    click.echo("stats from a plugin")
"""


def test_help_works_without_an_app(nightowl: NightowlRunner) -> None:
    result = nightowl("--help")

    assert result.returncode == 0
    for command in ("run", "serve", "routes"):
        assert f"  {command} " in result.stdout
    assert result.stderr == ""


def test_help_works_when_the_app_is_broken(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", "raise RuntimeError('no database')\n")

    result = nightowl("--help")

    assert result.returncode == 0
    assert "  serve " in result.stdout
    assert "RuntimeError: no database" in result.stderr
    assert "Traceback" not in result.stderr


def test_command_help_lists_options(nightowl: NightowlRunner) -> None:
    run_help = nightowl("run", "--help")
    serve_help = nightowl("serve", "--help")

    assert "--reload / --no-reload" in run_help.stdout
    assert "env var: PORT" in run_help.stdout
    for option in ("--workers", "--server [uvicorn|granian]", "--proxy-headers"):
        assert option in serve_help.stdout


def test_routes_table(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", ROUTES_APP)

    result = nightowl("routes")

    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["METHODS", "PATH", "NAME", "HANDLER"],
        ["GET", "/", "home", "app.home"],
        ["GET,POST", "/posts/<slug>", "post-detail", "app.post_detail"],
        ["WS", "/ws", "chat", "app.chat"],
        ["DELETE", "/api/users/{user_id}", "delete_user", "app.delete_user"],
    ]
    header = result.stdout.splitlines()[0]
    assert header.index("PATH") == len("GET,POST  ")  # columns are aligned


def test_routes_sorted_by_path(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", ROUTES_APP)

    result = nightowl("routes", "--sort", "path")

    paths = [line.split()[1] for line in result.stdout.splitlines()[1:]]
    assert paths == sorted(paths)


def test_routes_of_a_plain_asgi_app(nightowl: NightowlRunner, write: Write) -> None:
    write("raw.py", "async def app(scope, receive, send):\n    pass\n")

    result = nightowl("routes", "raw:app")

    assert result.returncode == 1
    assert "raw:app is not a nightowl app" in result.stderr
    assert "Traceback" not in result.stderr


def test_app_commands_show_in_help_and_run(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", APP_WITH_COMMAND)

    help_result = nightowl("--help")
    seed = nightowl("seed")
    greet = nightowl("greet", "Ada")

    assert "  seed " in help_result.stdout
    assert "Fill the database with sample rows." in help_result.stdout
    assert "  greet " in help_result.stdout
    assert seed.stdout == "seeded\n"
    assert greet.stdout == "Owl Shop greets Ada\n"


def test_app_commands_follow_the_app_option(
    nightowl: NightowlRunner, write: Write, tmp_path: Path
) -> None:
    write("shop/app.py", APP_WITH_COMMAND)

    result = nightowl("--app", "shop/app.py", "seed")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "seeded\n"


def test_unknown_command(nightowl: NightowlRunner) -> None:
    result = nightowl("seed")

    assert result.returncode == 2
    assert "No such command 'seed'" in result.stderr


def test_entry_point_commands(nightowl: NightowlRunner, write: Write, tmp_path: Path) -> None:
    write("site/owlplugin.py", PLUGIN)
    write("site/owlplugin-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: owlplugin\n")
    write(
        "site/owlplugin-1.0.dist-info/entry_points.txt",
        "[nightowl.commands]\nowlstats = owlplugin:owlstats\n",
    )
    env = {"PYTHONPATH": str(tmp_path / "site")}

    help_result = nightowl("--help", env=env)
    result = nightowl("owlstats", env=env)

    assert "  owlstats " in help_result.stdout
    assert result.returncode == 0, result.stderr
    assert result.stdout == "stats from a plugin\n"


def test_version(nightowl: NightowlRunner) -> None:
    result = nightowl("--version")

    assert result.returncode == 0
    assert result.stdout.startswith("nightowl, version ")


def test_openapi_prints_the_document(nightowl: NightowlRunner, write: Write) -> None:
    import json

    write("app.py", ROUTES_APP)

    result = nightowl("openapi", "app:app")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"] == "3.1.0"
    assert "/api/users/{user_id}" in document["paths"]


def test_openapi_yaml(nightowl: NightowlRunner, write: Write) -> None:
    pytest.importorskip("yaml", reason="nightowl openapi --yaml needs PyYAML")
    import yaml

    write("app.py", ROUTES_APP)

    result = nightowl("openapi", "--yaml")

    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["openapi"] == "3.1.0"


def test_openapi_of_a_plain_asgi_app_is_a_clear_error(
    nightowl: NightowlRunner, write: Write
) -> None:
    write("raw.py", "async def app(scope, receive, send):\n    pass\n")

    result = nightowl("openapi", "raw:app")

    assert result.returncode == 1
    assert "not a nightowl app" in result.stderr
    assert "Traceback" not in result.stderr
