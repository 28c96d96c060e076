"""The login session on every session backend: fixation, tampering, password changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nightowl import App
from nightowl.auth import Auth
from nightowl.testing import TestClient
from tests.auth.conftest import BROWSER, PASSWORD, csrf_token, log_in, make_app
from tests.redis_server import REDIS_URL, skip_without_redis
from tests.statements import recorded_statements


@pytest.fixture(params=["cookie", "redis", "database"])
def backend_app(
    request: pytest.FixtureRequest, empty_database_url: str
) -> Iterator[tuple[App, Auth]]:
    backend: Any = request.param
    if backend == "redis":
        skip_without_redis()
        backend = REDIS_URL
    app, auth = make_app(empty_database_url, sessions=backend)
    auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")
    yield app, auth
    app.state.database.close()


class _Browsers:
    """Several browsers through one test client (one event loop, as the Redis backend
    wants): each has its own cookies, swapped in when it is used."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.jars: dict[str, Any] = {}
        self.current: str | None = None

    def __call__(self, name: str) -> TestClient:
        if self.current != name:
            if self.current is not None:
                self.jars[self.current] = httpx.Cookies(self.client.cookies)
            self.client.cookies = httpx.Cookies(self.jars.get(name, {}))
            self.current = name
        return self.client


@pytest.fixture
def browsers(backend_app: tuple[App, Auth]) -> Iterator[_Browsers]:
    with TestClient(backend_app[0], follow_redirects=False) as client:
        yield _Browsers(client)


def _client(app: App) -> TestClient:
    return TestClient(app, follow_redirects=False)


def test_session_fixation(browsers: _Browsers) -> None:
    """A session cookie planted before the login (by an attacker who got it from the
    site) does not become a logged-in session."""
    victim = browsers("victim")
    victim.get("/auth/login", headers=BROWSER)
    planted = victim.cookies["session"]
    assert log_in(victim).status_code == 303
    assert victim.cookies["session"] != planted  # a new id, a new CSRF secret
    assert victim.get("/whoami").json() == {"user": "ada"}
    attacker = browsers("attacker")
    attacker.cookies.set("session", planted)
    assert attacker.get("/whoami").json() == {"user": None}


def test_login_rotates_the_csrf_token(backend_app: tuple[App, Auth]) -> None:
    app, _ = backend_app
    with _client(app) as client:
        before = csrf_token(client.get("/auth/login", headers=BROWSER).text)
        log_in(client)
        stale = client.post("/auth/logout", data={"csrf_token": before})
        assert stale.status_code == 403
        assert client.get("/whoami").json() == {"user": "ada"}


def test_tampered_session_cookie(backend_app: tuple[App, Auth]) -> None:
    app, _ = backend_app
    with _client(app) as client:
        log_in(client)
        value = client.cookies["session"]
        flipped = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
        client.cookies.set("session", flipped)
        response = client.get("/whoami")
        assert response.status_code == 200
        assert response.json() == {"user": None}
        assert client.get("/private").status_code == 401


def test_password_change_ends_the_other_sessions(browsers: _Browsers) -> None:
    log_in(browsers("laptop"))
    log_in(browsers("phone"))
    assert browsers("phone").get("/whoami").json() == {"user": "ada"}
    laptop = browsers("laptop")
    page = laptop.get("/auth/password/change", headers=BROWSER)
    assert page.status_code == 200
    changed = laptop.post(
        "/auth/password/change",
        data={
            "csrf_token": csrf_token(page.text),
            "old_password": PASSWORD,
            "new_password1": "a brand new secret",
            "new_password2": "a brand new secret",
        },
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/auth/password/change/done"
    assert laptop.get("/whoami").json() == {"user": "ada"}  # this session stays
    done = laptop.get("/auth/password/change/done", headers=BROWSER)
    assert "Your password was changed." in done.text
    phone = browsers("phone")
    assert phone.get("/whoami").json() == {"user": None}  # the other one ended
    assert log_in(phone, password=PASSWORD).status_code == 400
    assert log_in(phone, password="a brand new secret").status_code == 303


def test_password_change_errors_per_field(backend_app: tuple[App, Auth]) -> None:
    app, _ = backend_app
    with _client(app) as client:
        log_in(client)
        token = csrf_token(client.get("/auth/password/change", headers=BROWSER).text)
        sent = {"csrf_token": token, "old_password": "wrong", "new_password1": "12345678"}
        page = client.post("/auth/password/change", data={**sent, "new_password2": "x"})
        assert page.status_code == 400
        assert (
            '<ul class="errors" id="old_password-errors"><li>Your old password was entered incorrectly.</li></ul>'
            in page.text
        )
        assert "This password is too common." in page.text
        assert "This password is entirely numeric." in page.text
        sent = {
            "csrf_token": token,
            "old_password": PASSWORD,
            "new_password1": "a brand new secret",
        }
        page = client.post("/auth/password/change", data={**sent, "new_password2": "typo"})
        assert (
            'id="new_password2-errors"><li>The two password fields didn&#39;t match.</li>'
            in page.text
        )
        assert client.get("/whoami").json() == {"user": "ada"}


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_a_deleted_or_deactivated_user_is_logged_out(
    backend_app: tuple[App, Auth], change: str
) -> None:
    app, auth = backend_app
    from sqlalchemy import delete, update

    from nightowl.auth import User

    with _client(app) as client:
        log_in(client)
        assert client.get("/whoami").json() == {"user": "ada"}
        with auth.database.session() as db:
            if change == "delete":
                db.execute(delete(User))
            else:
                db.execute(update(User).values(is_active=False))
            db.commit()
        assert client.get("/whoami").json() == {"user": None}
        assert client.get("/private").status_code == 401


@pytest.mark.parametrize(
    "data", ["not json", '{"_auth_user_id": "ada"}', '{"_auth_user_id": "99999999999999999999"}']
)
def test_a_session_row_written_by_hand_is_anonymous(
    empty_database_url: str, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Data the database cannot read as JSON, or a user id it cannot cast, in a session
    row: the request is anonymous (the session's user is looked up by itself), not a 500."""
    from sqlalchemy import update

    from nightowl.sessions.backends.database import SessionRecord

    app, auth = make_app(empty_database_url, sessions="database")
    auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")
    try:
        with _client(app) as client:
            log_in(client)
            assert client.get("/whoami").json() == {"user": "ada"}
            with auth.database.session() as db:
                db.execute(update(SessionRecord).values(data=data))
                db.commit()
            assert client.get("/whoami").json() == {"user": None}
            assert client.get("/private").status_code == 401
    finally:
        app.state.database.close()


def test_an_authenticated_request_costs_one_statement(
    backend_app: tuple[App, Auth], request: pytest.FixtureRequest
) -> None:
    """The user once, plus the session row with the database backend, and no more: the
    database backend reads both in one statement."""

    app, auth = backend_app
    with _client(app) as client:
        log_in(client)
        client.get("/whoami")  # warm: the first request of a process may tidy expired rows
        with recorded_statements(auth.database) as statements:
            assert client.get("/whoami").json() == {"user": "ada"}
    assert len(statements) == 1, statements
    if request.node.callspec.params["backend_app"] == "database":
        # The session row and its user: one statement, a join on the session's user id.
        assert (
            "FROM nightowl_session LEFT OUTER JOIN auth_user ON auth_user.id = " in (statements[0])
        )
    else:
        assert "FROM auth_user WHERE auth_user.id = " in statements[0], statements
