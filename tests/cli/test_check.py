"""``nightowl check --deploy``: the production checklist, its report and exit status."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine

NightowlRunner = Callable[..., subprocess.CompletedProcess[str]]
Write = Callable[[str, str], Path]

STRONG = "kQ3v9-Zr_8mWbT2xLp7sYc4HdN6fJgR1uEaV0oKiB5w"

INSECURE_APP = """
from nightowl import App

app = App(debug=True, sessions=True)


@app.get("/")
def home():
    return {"ok": True}
"""

HARDENED_APP = f"""
from nightowl import App
from nightowl.middleware.security import SecurityHeadersMiddleware
from nightowl.middleware.trustedhost import TrustedHostMiddleware

app = App(
    secret_key="{STRONG}",
    sessions={{"secure": True}},
    trusted_proxies=["10.0.0.0/8"],
)
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
app.add_middleware(SecurityHeadersMiddleware, hsts=True)


@app.get("/")
def home():
    return {{"ok": True}}
"""


def _lines(output: str) -> dict[str, str]:
    """``{check: "FAIL"|"WARN"|"ok"}`` from the report."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "WARN", "FAIL"):
            found[parts[1]] = parts[0]
    return found


def test_an_insecure_app_fails_the_checklist(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", INSECURE_APP)
    result = nightowl("check", "--deploy", env={"SECRET_KEY": "change-me-please-1234"})
    assert result.returncode == 1, result.stdout + result.stderr
    report = _lines(result.stdout)
    assert report["debug"] == "FAIL"
    assert report["secret_key"] == "FAIL"
    assert report["allowed_hosts"] == "FAIL"
    assert report["hsts"] == "WARN"
    assert report["trusted_proxies"] == "WARN"
    assert report["secure_cookies"] == "WARN"
    assert "secrets.token_urlsafe" in result.stdout  # says how to fix it
    assert result.stdout.rstrip().endswith("3 failed, 3 warnings.")


def test_a_hardened_app_passes(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", HARDENED_APP)
    result = nightowl("check", "--deploy", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(_lines(result.stdout).values()) == {"ok"}
    assert result.stdout.rstrip().endswith("0 failed, 0 warnings.")


def test_warnings_fail_with_strict(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", HARDENED_APP.replace('    trusted_proxies=["10.0.0.0/8"],\n', ""))
    assert nightowl("check", "--deploy").returncode == 0
    strict = nightowl("check", "--deploy", "--strict")
    assert strict.returncode == 1
    assert _lines(strict.stdout)["trusted_proxies"] == "WARN"


def test_without_deploy_the_app_only_has_to_compile(nightowl: NightowlRunner, write: Write) -> None:
    write("app.py", INSECURE_APP)
    assert nightowl("check").returncode == 0
    broken = INSECURE_APP + '\n\n@app.get("/users/{user_id}")\ndef user(user_id: object.x): ...\n'
    write("app.py", broken)
    result = nightowl("check")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


DATABASE_APP = f"""
import os

from nightowl import App
from nightowl.db import Database, Model, Mapped, mapped_column
from nightowl.middleware.security import SecurityHeadersMiddleware
from nightowl.middleware.trustedhost import TrustedHostMiddleware


class Note(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]


database = Database(os.environ["DATABASE_URL"], pool_size=20, max_overflow=5)
app = App(database=database, secret_key="{STRONG}", trusted_proxies=["10.0.0.0/8"])
app.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
app.add_middleware(SecurityHeadersMiddleware, hsts=True)
"""


@pytest.mark.slow
def test_pools_against_workers_and_unapplied_migrations(
    nightowl: NightowlRunner, write: Write, postgres_url: str
) -> None:
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        limit = int(connection.exec_driver_sql("SHOW max_connections").scalar_one())
    engine.dispose()
    too_many = limit // 50 + 1  # each worker may open 2 pools x (20 + 5) connections
    write("app.py", DATABASE_APP)
    env = {"DATABASE_URL": postgres_url}
    made = nightowl("makemigrations", "-m", "notes", env=env)
    assert made.returncode == 0, made.stdout + made.stderr

    result = nightowl("check", "--deploy", "--workers", str(too_many), env=env)
    assert result.returncode == 1
    report = _lines(result.stdout)
    assert report["database_pool"] == "FAIL"
    expected = f"{too_many} workers x 2 pools x (pool_size 20 + max_overflow 5) = {too_many * 50}"
    assert expected in result.stdout
    assert f"(max_connections {limit})" in result.stdout
    assert report["migrations"] == "FAIL"
    assert "0001_notes" in result.stdout

    assert nightowl("migrate", env=env).returncode == 0
    result = nightowl("check", "--deploy", "--workers", "1", env=env)
    assert result.returncode == 0, result.stdout
    assert _lines(result.stdout)["migrations"] == "ok"
    assert _lines(result.stdout)["database_pool"] == "ok"
