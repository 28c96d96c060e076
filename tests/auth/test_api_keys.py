"""API keys: shown once, stored as digests, with a prefix, expiry, revocation, last use."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from nightowl import App
from nightowl.auth import APIKey, APIKeyAuthenticator, Auth
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, make_app
from tests.statements import recorded_statements


@pytest.fixture
def keyed(empty_database_url: str) -> Iterator[tuple[App, Auth, Any]]:
    app, auth = make_app(empty_database_url, authenticators=[APIKeyAuthenticator()])
    user = auth.create_user_sync(PASSWORD, username="robot")
    yield app, auth, user
    app.state.database.close()


def _run(auth: Auth, work: Any) -> Any:
    async def run() -> Any:
        try:
            return await work
        finally:
            await auth.database.dispose_async()

    return asyncio.run(run())


def test_a_key_resolves_to_its_user(keyed: tuple[App, Auth, Any]) -> None:
    app, auth, user = keyed
    key, raw = _run(auth, auth.create_api_key(user, name="deploy"))
    assert raw.startswith(f"nok_{key.prefix}_") and len(raw) > 50
    with auth.database.session() as db:
        stored = db.scalars(select(APIKey)).one()
        assert (stored.name, stored.prefix, stored.user_id) == ("deploy", key.prefix, user.id)
        assert raw not in stored.key_hash and stored.last_used_at is None
    with TestClient(app) as client:
        assert client.get("/private", headers={"X-API-Key": raw}).json() == {"user": "robot"}
        assert client.get("/whoami").json() == {"user": None}  # no key: anonymous
        assert "set-cookie" not in client.get("/private", headers={"X-API-Key": raw}).headers
    with auth.database.session() as db:
        assert db.scalars(select(APIKey.last_used_at)).one() is not None


@pytest.mark.parametrize("mangle", ["secret", "prefix", "garbage"])
def test_a_wrong_key_is_401(keyed: tuple[App, Auth, Any], mangle: str) -> None:
    app, auth, user = keyed
    key, raw = _run(auth, auth.create_api_key(user))
    wrong = {
        "secret": raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB"),
        "prefix": raw.replace(key.prefix, "00000000"),
        "garbage": "not a key",
    }[mangle]
    with TestClient(app) as client:
        response = client.get("/whoami", headers={"X-API-Key": wrong})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "APIKey"
        assert response.json()["detail"] == "Invalid, revoked or expired API key."


def test_revoked_and_expired_keys(keyed: tuple[App, Auth, Any]) -> None:
    app, auth, user = keyed
    key, raw = _run(auth, auth.create_api_key(user))
    _, old = _run(auth, auth.create_api_key(user, expires_in=timedelta(seconds=-1)))
    with TestClient(app) as client:
        assert client.get("/private", headers={"X-API-Key": raw}).status_code == 200
        assert client.get("/private", headers={"X-API-Key": old}).status_code == 401
    assert _run(auth, auth.revoke_api_key(key.prefix)) is True
    assert _run(auth, auth.revoke_api_key(key.prefix)) is False  # once
    with TestClient(app) as client:
        assert client.get("/private", headers={"X-API-Key": raw}).status_code == 401


def test_the_key_of_an_inactive_user_is_refused(keyed: tuple[App, Auth, Any]) -> None:
    app, auth, user = keyed
    _, raw = _run(auth, auth.create_api_key(user))
    with auth.database.session() as db:
        cast(Any, db.get(type(user), user.id)).is_active = False
        db.commit()
    with TestClient(app) as client:
        assert client.get("/private", headers={"X-API-Key": raw}).status_code == 401


def test_the_key_of_a_deleted_user_is_refused(keyed: tuple[App, Auth, Any]) -> None:
    app, auth, user = keyed
    _, raw = _run(auth, auth.create_api_key(user))
    with auth.database.session() as db:
        db.delete(db.get(type(user), user.id))
        db.commit()
    with TestClient(app) as client:
        response = client.get("/private", headers={"X-API-Key": raw})
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid, revoked or expired API key."


def test_an_api_key_request_costs_one_statement(keyed: tuple[App, Auth, Any]) -> None:
    """The key and its user come from one statement; ``last_used_at`` is written by the
    first request of a minute only."""
    app, auth, user = keyed
    _, raw = _run(auth, auth.create_api_key(user))
    with TestClient(app) as client, recorded_statements(auth.database) as statements:
        assert client.get("/private", headers={"X-API-Key": raw}).json() == {"user": "robot"}
        assert len(statements) == 2, statements  # the first use is written down
        assert statements[1].startswith("UPDATE auth_api_key SET last_used_at=")
        statements.clear()
        assert client.get("/private", headers={"X-API-Key": raw}).json() == {"user": "robot"}
    assert len(statements) == 1, statements
    assert "FROM auth_api_key LEFT OUTER JOIN auth_user ON auth_user.id = " in statements[0]
