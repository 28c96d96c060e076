"""Opaque database tokens: stored as digests, expiring, revocable, one query per request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from nightowl import App
from nightowl.auth import Auth, DatabaseTokens, Token
from nightowl.auth.models import utcnow
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, make_app
from tests.auth.test_token_view import bearer, get_token
from tests.statements import recorded_statements


@pytest.fixture
def db_app(empty_database_url: str) -> Iterator[tuple[App, Auth, Any]]:
    app, auth = make_app(empty_database_url, tokens="database")
    user = auth.create_user_sync(PASSWORD, username="ada")
    yield app, auth, user
    app.state.database.close()


def _run(auth: Auth, work: Any) -> Any:
    async def run() -> Any:
        try:
            return await work
        finally:
            await auth.database.dispose_async()

    return asyncio.run(run())


def test_tokens_are_kept_as_digests(db_app: tuple[App, Auth, Any]) -> None:
    app, auth, user = db_app
    pair = _run(auth, auth.create_token(user))
    assert pair.access_token.startswith("noa_") and pair.refresh_token.startswith("nor_")
    with auth.database.session() as db:
        rows = db.scalars(select(Token).order_by(Token.kind)).all()
        assert [row.kind for row in rows] == ["access", "refresh"]
        assert all(pair.access_token not in row.digest for row in rows)
        assert rows[0].family == rows[1].family and rows[0].user_id == user.id
    with TestClient(app) as client:
        assert client.get("/private", headers=bearer(pair.access_token)).status_code == 200
        # A refresh token is not an access token.
        assert client.get("/private", headers=bearer(pair.refresh_token)).status_code == 401


def test_expired_token(db_app: tuple[App, Auth, Any]) -> None:
    app, auth, user = db_app
    pair = _run(auth, auth.create_token(user))
    with auth.database.session() as db:
        db.execute(update(Token).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.commit()
    with TestClient(app) as client:
        assert client.get("/private", headers=bearer(pair.access_token)).status_code == 401
        form = {"grant_type": "refresh_token", "refresh_token": pair.refresh_token}
        assert client.post("/auth/token", data=form).status_code == 400
    assert _run(auth, auth.clear_expired_tokens()) == 2


def test_revoked_token_and_revoking_a_user(db_app: tuple[App, Auth, Any]) -> None:
    app, auth, user = db_app
    one = _run(auth, auth.create_token(user))
    two = _run(auth, auth.create_token(user))
    assert _run(auth, auth.revoke_token(one.access_token)) is True
    assert _run(auth, auth.revoke_token("noa_unknown")) is False
    with TestClient(app) as client:
        assert client.get("/private", headers=bearer(one.access_token)).status_code == 401
        assert client.get("/private", headers=bearer(two.access_token)).status_code == 200
    tokens = auth.tokens
    assert isinstance(tokens, DatabaseTokens)
    assert _run(auth, tokens.revoke_user(user)) == 3  # two's pair, one's refresh token
    assert status_of(app, two.access_token) == 401


def status_of(app: App, token: str) -> int:
    with TestClient(app) as client:
        return client.get("/private", headers=bearer(token)).status_code


def test_refresh_token_reuse(db_app: tuple[App, Auth, Any]) -> None:
    app, _, _ = db_app
    with TestClient(app) as client:
        first = get_token(client).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        second = client.post("/auth/token", data=form).json()
        assert client.get("/private", headers=bearer(second["access_token"])).status_code == 200
        assert client.post("/auth/token", data=form).json()["error"] == "invalid_grant"
        assert client.get("/private", headers=bearer(second["access_token"])).status_code == 401


def test_a_password_change_ends_the_tokens(db_app: tuple[App, Auth, Any]) -> None:
    app, auth, user = db_app
    pair = _run(auth, auth.create_token(user))
    _run(auth, auth.set_password(user, "a brand new password", validate=False))
    assert status_of(app, pair.access_token) == 401


def test_a_bearer_request_costs_one_statement(db_app: tuple[App, Auth, Any]) -> None:
    """The token joined to its user: one query."""
    app, auth, user = db_app
    pair = _run(auth, auth.create_token(user))
    with TestClient(app) as client, recorded_statements(auth.database) as statements:
        response = client.get("/private", headers=bearer(pair.access_token))
        assert response.json() == {"user": "ada"}
    assert len(statements) == 1, statements
