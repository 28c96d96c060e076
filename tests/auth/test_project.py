"""A project using the battery, through the real ``nightowl`` command: migrations,
permissions for every model, createsuperuser and changepassword."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

NIGHTOWL = str(Path(sys.executable).parent / "nightowl")

APP = """
from nightowl import App
from nightowl.auth import Auth
import blog

app = App(database=True, secret_key="a-project-secret-key-long-enough")
auth = Auth(app{options})
"""

BLOG = """
from sqlalchemy import ForeignKey, String
from nightowl.db import Mapped, Model, mapped_column


class BlogPost(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("{user_table}.id"))


class Tag(Model):
    __app_label__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
"""

MEMBER = """
from nightowl.auth.models import AbstractUser
from nightowl.db import Mapped, mapped_column


class Member(AbstractUser):
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    nickname: Mapped[str] = mapped_column(default="")
"""

# Each test builds a project and runs nightowl's commands on it, as processes.
# Each test runs the CLI a dozen times: a busy machine stretches that past the default limit.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(tmp_path: Path, empty_database_url: str) -> Run:
    def nightowl(
        *args: str, input: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("NIGHTOWL_", "PORT"))}
        full.update(DATABASE_URL=empty_database_url, **env)
        return subprocess.run(
            [NIGHTOWL, *args],
            cwd=tmp_path,
            env=full,
            input=input,
            capture_output=True,
            text=True,
            timeout=90,
        )

    return nightowl


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    return result.stdout


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url.replace("postgresql+psycopg", "postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_default_user_model(tmp_path: Path, run: Run, empty_database_url: str) -> None:
    (tmp_path / "app.py").write_text(APP.format(options=""))
    (tmp_path / "blog.py").write_text(BLOG.format(user_table="auth_user"))
    made = _ok(run("makemigrations", "-m", "add posts"))
    assert "create table blog_post" in made and "create table tag" in made
    # The battery's migrations come first (the models are compared with the database);
    # its tables are never the project's migrations' to create.
    for name in ["auth_0001_initial", "auth_0002_api_keys", "auth_user_0001_initial"]:
        assert f"Applying {name}... OK" in made
    assert "create table auth" not in made
    assert _ok(run("migrate")) == "  Applying 0001_add_posts... OK\n"
    assert {"auth_user", "auth_group", "auth_permission", "blog_post"} <= _tables(
        empty_database_url
    )
    assert _ok(run("makemigrations")).strip() == "No changes detected"
    shown = _ok(run("showmigrations"))
    assert "[X] auth_0001_initial" in shown and "[X] 0001_add_posts" in shown

    permissions = {
        f"{label}.{codename}"
        for label, codename in _rows(
            empty_database_url, "SELECT app_label, codename FROM auth_permission"
        )
    }
    assert {
        "blog.view_blogpost",
        "blog.add_blogpost",
        "blog.change_blogpost",
        "blog.delete_blogpost",
    } <= permissions
    assert {"tags.add_tag", "auth.change_user", "auth.add_group"} <= permissions
    names = _rows(
        empty_database_url, "SELECT name FROM auth_permission WHERE codename = 'add_blogpost'"
    )
    assert names == [("Can add blog post",)]
    _ok(run("migrate"))  # again: no duplicates
    assert len(_rows(empty_database_url, "SELECT id FROM auth_permission")) == len(permissions)

    env = {
        "NIGHTOWL_SUPERUSER_USERNAME": "admin",
        "NIGHTOWL_SUPERUSER_EMAIL": "Admin@Example.com",
        "NIGHTOWL_SUPERUSER_PASSWORD": "a long admin password",
    }
    assert "Superuser created successfully." in _ok(run("createsuperuser", "--noinput", **env))
    rows = _rows(
        empty_database_url,
        "SELECT username, email, is_staff, is_superuser, password FROM auth_user",
    )
    assert rows[0][:4] == ("admin", "admin@example.com", True, True)
    assert str(rows[0][4]).startswith("$argon2id$")
    again = run("createsuperuser", "--noinput", **env)
    assert again.returncode == 1 and "already exists" in again.stderr
    missing = run("createsuperuser", "--noinput", NIGHTOWL_SUPERUSER_USERNAME="x")
    assert missing.returncode == 1 and "NIGHTOWL_SUPERUSER_EMAIL" in missing.stderr
    weak = run(
        "createsuperuser",
        "--noinput",
        **{**env, "NIGHTOWL_SUPERUSER_USERNAME": "b", "NIGHTOWL_SUPERUSER_PASSWORD": "123"},
    )
    assert weak.returncode == 1 and "too short" in weak.stderr

    changed = run(
        "changepassword", "admin", input="short\nshort\nnew admin secret\nnew admin secret\n"
    )
    assert "This password is too short" in changed.stderr
    assert "Password changed successfully for user admin." in _ok(changed)
    after = _rows(empty_database_url, "SELECT password FROM auth_user")[0][0]
    assert after != rows[0][4]
    unknown = run("changepassword", "nobody")
    assert unknown.returncode == 1 and "There is no user 'nobody'." in unknown.stderr

    key = run("createapikey", "admin", "--name", "ci", "--expires-days", "30")
    raw = _ok(key).strip()
    assert raw.startswith("nok_") and "it is not shown again" in key.stderr
    stored = _rows(empty_database_url, "SELECT name, prefix, key_hash FROM auth_api_key")
    assert stored[0][:2] == ("ci", raw.split("_")[1]) and raw not in str(stored[0][2])

    interactive = run(
        "createsuperuser", input="root\nroot@example.com\nroot pass phrase\nroot pass phrase\n"
    )
    assert "Superuser created successfully." in _ok(interactive)

    assert _ok(run("migrate", "zero"))
    assert not {"auth_user", "auth_permission", "blog_post"} & _tables(empty_database_url)
    migrated = _ok(run("migrate"))  # from nothing: the project's migration waits for the battery's
    assert migrated.index("auth_user_0001_initial") < migrated.index("0001_add_posts")


def test_a_user_model_of_the_project(tmp_path: Path, run: Run, empty_database_url: str) -> None:
    (tmp_path / "members.py").write_text(MEMBER)
    (tmp_path / "app.py").write_text(
        APP.format(options=", user_model=members.Member").replace(
            "import blog", "import blog, members"
        )
    )
    (tmp_path / "blog.py").write_text(BLOG.format(user_table="member"))
    made = _ok(run("makemigrations"))
    for table in ["member", "member_groups", "member_permissions", "blog_post"]:
        assert f"create table {table}\n" in made + "\n", made
    assert "auth_user" not in made
    assert "auth_user_0001_initial" not in made
    _ok(run("migrate"))
    tables = _tables(empty_database_url)
    assert {"member", "member_groups", "auth_group"} <= tables
    assert "auth_user" not in tables
    env = {
        "NIGHTOWL_SUPERUSER_EMAIL": "Boss@Example.com",
        "NIGHTOWL_SUPERUSER_PASSWORD": "boss pass phrase",
    }
    _ok(run("createsuperuser", "--noinput", **env))
    assert _rows(empty_database_url, "SELECT email FROM member") == [("boss@example.com",)]
    codenames = {
        c
        for (c,) in _rows(
            empty_database_url, "SELECT codename FROM auth_permission WHERE app_label = 'members'"
        )
    }
    assert codenames == {"view_member", "add_member", "change_member", "delete_member"}


def test_commands_without_the_battery(tmp_path: Path, run: Run) -> None:
    (tmp_path / "app.py").write_text("from nightowl import App\napp = App(database=True)\n")
    result = run("createsuperuser", "--noinput")
    assert result.returncode == 1
    assert "The app does not use nightowl.auth" in result.stderr
