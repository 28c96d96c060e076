"""``/auth/token``: OAuth2's password flow and refresh, on JWTs and on database tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nightowl import App
from nightowl.auth import Auth
from nightowl.auth.throttle import LoginThrottle
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, make_app


@pytest.fixture(params=["jwt", "database"])
def token_app(
    request: pytest.FixtureRequest, empty_database_url: str
) -> Iterator[tuple[App, Auth]]:
    app, auth = make_app(empty_database_url, tokens=request.param)
    auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")
    yield app, auth
    app.state.database.close()


@pytest.fixture
def api(token_app: tuple[App, Auth]) -> Iterator[TestClient]:
    with TestClient(token_app[0]) as client:
        yield client


def get_token(client: TestClient, **form: str) -> Any:
    data = {"grant_type": "password", "username": "ada", "password": PASSWORD, **form}
    return client.post("/auth/token", data=data)


def bearer(token: str, keyword: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{keyword} {token}"}


def test_the_password_flow(api: TestClient) -> None:
    response = get_token(api)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert api.get("/private", headers=bearer(body["access_token"])).json() == {"user": "ada"}
    assert "set-cookie" not in api.get("/whoami", headers=bearer(body["access_token"])).headers
    assert api.get("/private").status_code == 401


def test_refresh_tokens_are_rotated(api: TestClient) -> None:
    first = get_token(api).json()
    refreshed = api.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert api.get("/private", headers=bearer(second["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "nobody"}, "invalid_grant"),
        ({"password": ""}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"scope": "admin"}, "invalid_scope"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
    ],
)
def test_bad_requests_are_oauth2_problems(
    api: TestClient, form: dict[str, str], error: str
) -> None:
    response = get_token(api, **form)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["error"] == error and body["error_description"] == body["detail"]
    assert "access_token" not in body


def test_a_revoked_token_is_refused(api: TestClient) -> None:
    body = get_token(api).json()
    assert api.get("/private", headers=bearer(body["access_token"])).status_code == 200
    assert api.post("/auth/token/revoke", data={"token": body["access_token"]}).status_code == 200
    refused = api.get("/private", headers=bearer(body["access_token"]))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refused.json()["detail"] == "Invalid, expired or revoked token."
    assert api.post("/auth/token/revoke", data={"token": "not a token"}).status_code == 200


def test_revoking_a_refresh_token_ends_its_login(api: TestClient) -> None:
    body = get_token(api).json()
    other = get_token(api).json()  # another login, kept
    api.post("/auth/token/revoke", data={"token": body["refresh_token"]})
    assert api.get("/private", headers=bearer(body["access_token"])).status_code == 401
    assert api.get("/private", headers=bearer(other["access_token"])).status_code == 200


def test_the_token_endpoint_is_throttled(empty_database_url: str) -> None:
    throttle = LoginThrottle(max_per_account=3, window=60)
    app, auth = make_app(empty_database_url, throttle=throttle)
    auth.create_user_sync(PASSWORD, username="ada")
    with TestClient(app) as client:
        for _ in range(3):
            assert get_token(client, password="guess").status_code == 400
        blocked = get_token(client)
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["retry-after"]) <= 60
    app.state.database.close()


def test_another_header_keyword(empty_database_url: str) -> None:
    app, auth = make_app(empty_database_url, token_keyword="Token")
    auth.create_user_sync(PASSWORD, username="ada")
    with TestClient(app) as client:
        body = get_token(client).json()
        assert body["token_type"] == "Token"
        token = body["access_token"]
        assert client.get("/private", headers=bearer(token, "Token")).json() == {"user": "ada"}
        assert client.get("/private", headers=bearer(token)).status_code == 401  # not read
    app.state.database.close()


def test_without_tokens(empty_database_url: str) -> None:
    app, _ = make_app(empty_database_url, tokens=False)
    with TestClient(app) as client:
        assert get_token(client).status_code == 404
        assert client.get("/private", headers=bearer("x")).status_code == 401
        document = client.get("/openapi.json").json()
        assert document["paths"]["/private"]["get"]["security"] == [{"session": []}]
    app.state.database.close()


def test_a_browser_with_a_session_can_still_get_a_token(api: TestClient) -> None:
    """Swagger UI's Authorize posts without a CSRF token, maybe beside a session cookie."""
    api.get("/auth/login")
    assert "session" in api.cookies
    assert get_token(api).status_code == 200
