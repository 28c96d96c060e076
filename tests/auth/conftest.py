"""Auth fixtures: an app with the battery on SQLite and PostgreSQL, users, a browser-like client.

PostgreSQL (127.0.0.1:5432) gets a database of its own for each test that uses it, and
the test is skipped, with the reason, when the server cannot be reached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nightowl import App, Depends
from nightowl.auth import Auth, PasswordHasher, User, current_user, login_required
from nightowl.auth.mail import MemoryMailBackend
from nightowl.testing import TestClient

SECRET = "a-test-secret-key-that-is-long-enough"
PASSWORD = "correct horse battery"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
#: Cheap argon2id parameters: the tests hash hundreds of passwords.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_app(url: str, *, sessions: Any = None, **options: Any) -> tuple[App, Auth]:
    """An app with the auth battery and a few routes, its tables created."""
    config: dict[str, Any] = {"database": url, "secret_key": SECRET}
    if sessions is not None:
        config["sessions"] = sessions
    app = App(**config)
    options.setdefault("hasher", FAST)
    options.setdefault("mail", MemoryMailBackend())
    auth = Auth(app, **options)
    app.state.database.create_all()

    @app.get("/")
    def home() -> dict[str, str]:
        return {"page": "home"}

    @app.get("/whoami")
    async def whoami(user: Any = Depends(current_user)) -> dict[str, Any]:
        return {"user": user.username if user else None}

    @app.get("/private")
    async def private(user: Any = Depends(login_required)) -> dict[str, Any]:
        return {"user": user.username}

    return app, auth


@pytest.fixture
def auth_app(empty_database_url: str) -> Iterator[tuple[App, Auth]]:
    app, auth = make_app(empty_database_url)
    yield app, auth
    app.state.database.close()


@pytest.fixture
def app(auth_app: tuple[App, Auth]) -> App:
    return auth_app[0]


@pytest.fixture
def auth(auth_app: tuple[App, Auth]) -> Auth:
    return auth_app[1]


@pytest.fixture
def ada(auth: Auth) -> User:
    """An active user, ``ada``, with :data:`PASSWORD`."""
    user = auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")
    assert isinstance(user, User)
    return user


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on ``page``."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(
    client: httpx.Client, username: str = "ada", password: str = PASSWORD, next: str = ""
) -> httpx.Response:
    """Open the login page, then post the form as a browser does."""
    page = client.get("/auth/login", headers=BROWSER)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_token(page.text), "username": username, "password": password}
    if next:
        data["next"] = next
    return client.post("/auth/login", data=data, headers=BROWSER)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client
