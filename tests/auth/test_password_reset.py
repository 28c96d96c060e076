"""Password reset by email: one answer for every address, single-use expiring links."""

from __future__ import annotations

import re
import time

import pytest

from nightowl.auth import Auth, User
from nightowl.auth.mail import MemoryMailBackend
from nightowl.auth.tokens import PasswordResetTokens
from nightowl.testing import TestClient
from tests.auth.conftest import BROWSER, SECRET, csrf_token, log_in

NEW = "a fresh new password"


def _ask(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    page = client.get("/auth/password/reset", headers=BROWSER)
    return client.post(
        "/auth/password/reset", data={"csrf_token": csrf_token(page.text), "email": email}
    )


def _link(auth: Auth) -> str:
    assert isinstance(auth.mail, MemoryMailBackend)
    message = auth.mail.outbox[-1]
    found = re.search(r"http://testserver(/auth/password/reset/\S+)", message.body)
    assert found, message.body
    return found.group(1)


def _set(client: TestClient, link: str, password: str = NEW):  # type: ignore[no-untyped-def]
    page = client.get(link, headers=BROWSER)
    return client.post(
        link,
        data={
            "csrf_token": csrf_token(page.text),
            "new_password1": password,
            "new_password2": password,
        },
    )


def test_reset_by_email(client: TestClient, auth: Auth, ada: User) -> None:
    asked = _ask(client, "ADA@example.com")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/auth/password/reset/done"
    assert "Check your email" in client.get("/auth/password/reset/done", headers=BROWSER).text
    assert isinstance(auth.mail, MemoryMailBackend)
    [message] = auth.mail.outbox
    assert (message.to, message.subject) == ("ada@example.com", "Reset your password")
    assert "Hello ada," in message.body
    link = _link(auth)
    page = client.get(link, headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "same-origin"  # the token stays on this page
    done = _set(client, link)
    assert done.status_code == 303
    assert done.headers["location"] == "/auth/password/reset/complete"
    assert log_in(client, password=NEW).status_code == 303


def test_user_enumeration_through_reset(client: TestClient, auth: Auth, ada: User) -> None:
    known = _ask(client, "ada@example.com")
    unknown = _ask(client, "nobody@example.com")
    assert (known.status_code, known.headers["location"], known.text) == (
        unknown.status_code,
        unknown.headers["location"],
        unknown.text,
    )
    assert isinstance(auth.mail, MemoryMailBackend)
    assert [m.to for m in auth.mail.outbox] == ["ada@example.com"]


def test_reset_token_reuse(client: TestClient, auth: Auth, ada: User) -> None:
    _ask(client, "ada@example.com")
    link = _link(auth)
    assert _set(client, link).status_code == 303
    again = client.get(link, headers=BROWSER)
    assert again.status_code == 400
    assert "This link is not valid" in again.text
    token = csrf_token(client.get("/auth/password/reset", headers=BROWSER).text)
    other = "yet another password"
    replay = client.post(
        link, data={"csrf_token": token, "new_password1": other, "new_password2": other}
    )
    assert replay.status_code == 400
    assert "This link is not valid" in replay.text
    assert log_in(client, password="yet another password").status_code == 400


def test_reset_token_expiry(client: TestClient, auth: Auth, ada: User) -> None:
    tokens = PasswordResetTokens(SECRET, max_age=auth.reset_max_age)
    old = tokens.make(ada, now=time.time() - auth.reset_max_age - 5)
    expired = client.get(f"/auth/password/reset/{ada.id}/{old}", headers=BROWSER)
    assert expired.status_code == 400
    fresh = tokens.make(ada)
    assert client.get(f"/auth/password/reset/{ada.id}/{fresh}", headers=BROWSER).status_code == 200
    assert (
        client.get(f"/auth/password/reset/{ada.id + 1}/{fresh}", headers=BROWSER).status_code == 400
    )
    forged = fresh[:-4] + "0000"
    assert client.get(f"/auth/password/reset/{ada.id}/{forged}", headers=BROWSER).status_code == 400


def test_reset_link_is_spent_by_a_login(client: TestClient, auth: Auth, ada: User) -> None:
    _ask(client, "ada@example.com")
    link = _link(auth)
    log_in(client)
    assert client.get(link, headers=BROWSER).status_code == 400


@pytest.mark.parametrize("email", ["not-an-address", "x" * 300 + "@example.com"])
def test_a_malformed_address_is_a_form_error(client: TestClient, auth: Auth, email: str) -> None:
    answer = _ask(client, email)
    assert answer.status_code == 400
    assert "Enter a valid email address." in answer.text
