"""The CLI loads what the command needs: a built-in command on a hello world loads no battery."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

NightowlRunner = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, str], Path]

#: A hello world that reports, as the process ends, which heavy packages were imported.
REPORTING_APP = """
import atexit
import sys

from nightowl import App

app = App()


@app.get("/")
def hello():
    return {"message": "hello world"}


def report():
    heavy = {"alembic", "httpx", "jinja2", "sqlalchemy"}
    loaded = sorted(heavy & {name.split(".")[0] for name in sys.modules})
    print("loaded:", ",".join(loaded) or "nothing heavy")


atexit.register(report)
"""


def test_a_built_in_command_loads_no_battery(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", REPORTING_APP)

    result = nightowl("routes")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "loaded: nothing heavy"


def test_a_battery_command_still_runs(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", REPORTING_APP)

    result = nightowl("showmigrations", "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage: nightowl showmigrations" in result.stdout
