"""Admin fixtures: the blog on SQLite and PostgreSQL with the auth battery and an admin
site, its users (a superuser, a staff editor with some permissions, a non-staff
user), and clients logged in as each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from nightowl import App
from nightowl.admin import Admin
from nightowl.auth import Auth, PasswordHasher, Permission, User
from nightowl.testing import TestClient
from tests.admin.blog import Comment, Post, PostAdmin, Status, Tag

SECRET = "a-test-secret-key-that-is-long-enough"
PASSWORD = "correct horse battery"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_blog(url: str, **admin_options: Any) -> tuple[App, Auth, Admin]:
    """The blog app: auth, an admin with Post, Comment and Tag, tables created."""
    app = App(database=url, secret_key=SECRET)
    auth = Auth(app, hasher=FAST)
    admin = Admin(app, **admin_options)
    admin.register(Post, PostAdmin)
    admin.register(
        Comment,
        list_display=["text", "post"],
        search_fields=["text", "post__title"],
        autocomplete_fields=["post"],
    )
    admin.register(Tag, search_fields=["name"])
    app.state.database.create_all()
    return app, auth, admin


def add_rows(app: App) -> dict[str, Any]:
    """Users, tags, five posts and their comments."""
    auth: Auth = app.state.auth
    boss = auth.create_user_sync(
        PASSWORD, username="boss", email="boss@example.com", is_staff=True, is_superuser=True
    )
    editor = auth.create_user_sync(
        PASSWORD, username="editor", email="editor@example.com", is_staff=True
    )
    reader = auth.create_user_sync(PASSWORD, username="reader", email="reader@example.com")
    with app.state.database.session() as db:
        news, howto = Tag(name="news"), Tag(name="howto")
        db.add_all([news, howto])
        posts = [
            Post(
                title="Hello world",
                body="first post here",
                author_id=boss.id,
                published=True,
                status=Status.live,
                created_at=datetime(2026, 1, 1, 9),
                tags=[news],
            ),
            Post(
                title="Second thoughts",
                body="more words",
                author_id=editor.id,
                created_at=datetime(2026, 2, 1, 9),
            ),
            Post(
                title="<script>alert(1)</script>",
                body="x",
                author_id=editor.id,
                status=Status.review,
                created_at=datetime(2026, 3, 1, 9),
            ),
            Post(
                title="Howto: admin",
                body="a b c d",
                author_id=boss.id,
                tags=[howto, news],
                created_at=datetime(2026, 4, 1, 9),
            ),
            Post(
                title="Last one",
                body="",
                author_id=editor.id,
                published=True,
                created_at=datetime(2026, 5, 1, 9),
            ),
        ]
        db.add_all(posts)
        db.flush()
        db.add_all(
            [
                Comment(post_id=posts[0].id, text="First!"),
                Comment(post_id=posts[0].id, text="Nice post"),
            ]
        )
        db.commit()
        ids = [p.id for p in posts]
    return {"boss": boss, "editor": editor, "reader": reader, "posts": ids}


@pytest.fixture
def blog(empty_database_url: str) -> Iterator[tuple[App, dict[str, Any]]]:
    app, _auth, _admin = make_blog(empty_database_url)
    rows = add_rows(app)
    yield app, rows
    app.state.database.close()


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on ``page``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(client: TestClient, username: str) -> None:
    """Log in through the auth battery's page, as a browser does."""
    page = client.get("/auth/login", headers=BROWSER)
    data = {"csrf_token": csrf_token(page.text), "username": username, "password": PASSWORD}
    response = client.post("/auth/login", data=data, headers=BROWSER)
    assert response.status_code == 303, response.text


def client_for(app: App, username: str | None) -> TestClient:
    """A browser-like client, logged in as ``username`` (anonymous for ``None``)."""
    client = TestClient(app, follow_redirects=False, headers=BROWSER)
    client.__enter__()
    if username is not None:
        log_in(client, username)
    return client


@pytest.fixture
def boss(blog: tuple[App, dict[str, Any]]) -> Iterator[TestClient]:
    client = client_for(blog[0], "boss")
    yield client
    client.__exit__(None, None, None)


def grant(app: App, user: Any, *permissions: str) -> None:
    """Give ``user`` permissions, through a sync session (the async engine belongs to the
    test client's event loop)."""
    with app.state.database.session() as db:
        row = db.get(User, user.id)
        assert row is not None
        for name in permissions:
            label, codename = name.split(".")
            query = select(Permission).filter_by(app_label=label, codename=codename)
            permission = db.scalars(query).first() or Permission(
                app_label=label, codename=codename, name=name
            )
            row.user_permissions.append(permission)
        db.commit()
