"""Logging in and out through the /auth/ pages: what the browser sees."""

from __future__ import annotations

import pytest

from nightowl.auth import Auth
from nightowl.testing import TestClient
from tests.auth.conftest import BROWSER, PASSWORD, csrf_token, log_in

pytestmark = pytest.mark.usefixtures("ada")


def test_login_page_has_a_csrf_protected_form(client: TestClient) -> None:
    page = client.get("/auth/login", headers=BROWSER)
    assert page.status_code == 200
    assert "<h1>Log in</h1>" in page.text
    assert 'name="csrf_token"' in page.text
    assert page.headers["referrer-policy"] == "same-origin"


def test_login_then_logout(client: TestClient) -> None:
    assert client.get("/whoami").json() == {"user": None}
    done = log_in(client)
    assert done.status_code == 303
    assert done.headers["location"] == "/"
    assert client.get("/whoami").json() == {"user": "ada"}
    assert client.get("/private").json() == {"user": "ada"}

    page = client.get("/auth/logout", headers=BROWSER)
    out = client.post("/auth/logout", data={"csrf_token": csrf_token(page.text)})
    assert out.status_code == 303
    assert client.get("/whoami").json() == {"user": None}
    assert "You have been logged out." in client.get("/auth/login", headers=BROWSER).text


def test_wrong_password_shows_one_message(client: TestClient) -> None:
    wrong = log_in(client, password="not it at all")
    assert wrong.status_code == 400
    assert "Please enter a correct username and password." in wrong.text
    assert 'value="ada"' in wrong.text  # what was typed comes back, but not the password
    assert "not it at all" not in wrong.text
    unknown = log_in(client, username="nobody")
    assert unknown.status_code == 400
    assert "Please enter a correct username and password." in unknown.text
    assert client.get("/whoami").json() == {"user": None}


def test_next_is_followed_to_a_path_of_the_site(client: TestClient) -> None:
    done = log_in(client, next="/private?tab=2")
    assert done.headers["location"] == "/private?tab=2"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "http:/evil.example",
    ],
)
def test_open_redirect_through_next_is_refused(client: TestClient, target: str) -> None:
    page = client.get("/auth/login", params={"next": target}, headers=BROWSER)
    assert target not in page.text or target == "evil.example"
    done = log_in(client, next=target)
    assert done.status_code == 303
    assert done.headers["location"] == "/"


def test_login_without_the_session_cookie_is_refused(client: TestClient) -> None:
    """Login CSRF: a forged cross-site form carries no session cookie, hence no token check."""
    token = csrf_token(client.get("/auth/login", headers=BROWSER).text)
    client.cookies.clear()
    forged = client.post(
        "/auth/login", data={"csrf_token": token, "username": "ada", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert "enable cookies" in forged.text
    assert client.get("/whoami").json() == {"user": None}


def test_login_post_with_a_wrong_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/auth/login", headers=BROWSER)
    forged = client.post(
        "/auth/login", data={"csrf_token": "forged", "username": "ada", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert client.get("/whoami").json() == {"user": None}


def test_inactive_user_gets_the_same_message(client: TestClient, auth: Auth) -> None:
    auth.create_user_sync(PASSWORD, username="bob", is_active=False)
    refused = log_in(client, username="bob")
    assert refused.status_code == 400
    assert "Please enter a correct username and password." in refused.text
