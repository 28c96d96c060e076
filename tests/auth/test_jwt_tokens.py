"""JWT bearer tokens, and the attacks on them they stop: ``alg: none``, HS256/RS256 key
confusion, expired, revoked and foreign tokens, refresh token reuse."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from nightowl import App, Depends
from nightowl.auth import Auth, JWTTokens, current_user, login_required
from nightowl.auth.bearer import password_check
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, SECRET, make_app
from tests.auth.test_token_view import bearer, get_token
from tests.statements import recorded_statements


def _rsa_pem() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


PRIVATE_PEM, PUBLIC_PEM = _rsa_pem()
ATTACKER_PEM, _ = _rsa_pem()


@pytest.fixture
def jwt_app(empty_database_url: str) -> Iterator[tuple[App, Auth, Any]]:
    app, auth = make_app(empty_database_url)
    user = auth.create_user_sync(PASSWORD, username="ada")
    yield app, auth, user
    app.state.database.close()


@pytest.fixture
def rs_app(empty_database_url: str) -> Iterator[tuple[App, Auth, Any]]:
    tokens = JWTTokens(algorithm="RS256", private_key=PRIVATE_PEM)
    app, auth = make_app(empty_database_url, tokens=tokens)
    user = auth.create_user_sync(PASSWORD, username="ada")
    yield app, auth, user
    app.state.database.close()


def claims(app: App, user: Any, **changes: Any) -> dict[str, Any]:
    """The claims of a valid access token for ``user``, with ``changes``."""
    now = int(time.time())
    valid = {
        "iss": "nightowl",
        "aud": "nightowl",
        "sub": str(user.id),
        "iat": now,
        "exp": now + 600,
        "jti": "a-token-id",
        "token_type": "access",
        "family": "a-family",
        "pwd": password_check(app, user),
    }
    valid.update(changes)
    return {key: value for key, value in valid.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned(header: dict[str, Any], payload: dict[str, Any], key: bytes = b"") -> str:
    """A token put together by hand, HMAC-SHA256-signed with ``key`` (or not at all)."""
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    if not key:
        return head + "."
    return head + "." + _b64(hmac.new(key, head.encode(), hashlib.sha256).digest())


def status(app: App, token: str) -> int:
    with TestClient(app) as client:
        return client.get("/private", headers=bearer(token)).status_code


def test_a_well_made_token_is_accepted(jwt_app: tuple[App, Auth, Any]) -> None:
    app, _, user = jwt_app
    assert status(app, jwt.encode(claims(app, user), SECRET, algorithm="HS256")) == 200


def test_alg_none(jwt_app: tuple[App, Auth, Any]) -> None:
    """An unsigned token that says it needs no signature."""
    app, _, user = jwt_app
    for alg in ["none", "None", "NONE"]:
        assert status(app, unsigned({"alg": alg, "typ": "JWT"}, claims(app, user))) == 401


def test_hs256_rs256_key_confusion(rs_app: tuple[App, Auth, Any]) -> None:
    """The RS256 public key is public: a token HMAC-signed with it must not pass."""
    app, _, user = rs_app
    with TestClient(app) as client:
        good = get_token(client).json()["access_token"]
        assert jwt.get_unverified_header(good)["alg"] == "RS256"
        assert client.get("/private", headers=bearer(good)).status_code == 200
    forged = unsigned({"alg": "HS256", "typ": "JWT"}, claims(app, user), key=PUBLIC_PEM)
    assert status(app, forged) == 401
    # Signed by another RSA key, or with the app's secret key: refused too.
    assert status(app, jwt.encode(claims(app, user), ATTACKER_PEM, algorithm="RS256")) == 401
    assert status(app, jwt.encode(claims(app, user), SECRET, algorithm="HS256")) == 401


def test_rs256_token_on_an_hs256_app(jwt_app: tuple[App, Auth, Any]) -> None:
    app, _, user = jwt_app
    assert status(app, jwt.encode(claims(app, user), ATTACKER_PEM, algorithm="RS256")) == 401


def test_expired_token(jwt_app: tuple[App, Auth, Any]) -> None:
    app, _, user = jwt_app
    past = int(time.time()) - 60
    old = claims(app, user, iat=past - 900, exp=past)
    assert status(app, jwt.encode(old, SECRET, algorithm="HS256")) == 401


def test_revoked_token(jwt_app: tuple[App, Auth, Any]) -> None:
    import asyncio

    app, auth, _ = jwt_app
    with TestClient(app) as client:
        token = get_token(client).json()["access_token"]
        assert client.get("/private", headers=bearer(token)).status_code == 200

    async def revoke() -> bool:
        try:
            return await auth.revoke_token(token)
        finally:
            await auth.database.dispose_async()

    assert asyncio.run(revoke()) is True
    assert status(app, token) == 401


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-service"},
        {"iss": "someone-else"},
        {"aud": None},
        {"iss": None},
        {"exp": None},
        {"jti": None},
        {"sub": "999"},
        {"token_type": "refresh"},
        {"pwd": "0" * 16},
    ],
    ids=lambda change: next(iter(change.items()))[0] + "=" + str(next(iter(change.values()))),
)
def test_token_for_another_audience_or_missing_claims(
    jwt_app: tuple[App, Auth, Any], change: dict[str, Any]
) -> None:
    """Signed with the right key, but for another service, or incomplete."""
    app, _, user = jwt_app
    assert status(app, jwt.encode(claims(app, user, **change), SECRET, algorithm="HS256")) == 401


def test_refresh_token_reuse(jwt_app: tuple[App, Auth, Any]) -> None:
    """A refresh token works once; presented again (a thief's copy), it ends the login."""
    app, _, _ = jwt_app
    with TestClient(app) as client:
        first = get_token(client).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        second = client.post("/auth/token", data=form).json()
        assert client.get("/private", headers=bearer(second["access_token"])).status_code == 200
        reused = client.post("/auth/token", data=form)
        assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
        # The whole family is revoked: the legitimate holder logs in again.
        assert client.get("/private", headers=bearer(second["access_token"])).status_code == 401
        again = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
        assert client.post("/auth/token", data=again).status_code == 400
        assert (
            client.post(
                "/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": first["access_token"]},
            ).status_code
            == 400
        )


def test_a_password_change_ends_the_tokens(jwt_app: tuple[App, Auth, Any]) -> None:
    import asyncio

    app, auth, user = jwt_app
    with TestClient(app) as client:
        token = get_token(client).json()["access_token"]

    async def change() -> None:
        try:
            await auth.set_password(user, "a brand new password", validate=False)
        finally:
            await auth.database.dispose_async()

    asyncio.run(change())
    assert status(app, token) == 401


def test_a_bearer_request_costs_one_statement(jwt_app: tuple[App, Auth, Any]) -> None:
    """The revocation check and the user come in one query, once per request however
    many dependencies ask for the user."""
    app, auth, _ = jwt_app

    @app.get("/three")
    async def three(
        a: Annotated[Any, Depends(current_user)],
        b: Annotated[Any, Depends(login_required)],
        c: Annotated[Any, Depends(login_required)],
    ) -> dict[str, bool]:
        return {"same": a is b is c}

    with TestClient(app) as client:
        token = get_token(client).json()["access_token"]
        with recorded_statements(auth.database) as statements:
            assert client.get("/private", headers=bearer(token)).json() == {"user": "ada"}
            assert len(statements) == 1, statements
            assert client.get("/three", headers=bearer(token)).json() == {"same": True}
    assert len(statements) == 2, statements
    assert "auth_revoked_token" in statements[0] and "auth_user" in statements[0]


def test_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="one of HS256"):
        JWTTokens(algorithm="none")
    with pytest.raises(ImproperlyConfigured, match="private_key"):
        JWTTokens(algorithm="RS256")
    with pytest.raises(ImproperlyConfigured, match="secret_key"):
        JWTTokens(algorithm="RS256", secret_key="x" * 32, private_key=PRIVATE_PEM)
    with pytest.raises(ImproperlyConfigured, match="shared secret_key"):
        JWTTokens(private_key=PRIVATE_PEM)
    with pytest.raises(ImproperlyConfigured, match="not a RS256 private key"):
        JWTTokens(algorithm="RS256", private_key=b"not a key")
    with pytest.raises(ImproperlyConfigured, match="positive"):
        JWTTokens(lifetime=__import__("datetime").timedelta(0))


def test_a_verifying_only_backend(empty_database_url: str) -> None:
    """A service holding only the public key checks tokens and issues none."""
    app, auth = make_app(
        empty_database_url, tokens=JWTTokens(algorithm="RS256", public_key=PUBLIC_PEM)
    )
    user = auth.create_user_sync(PASSWORD, username="ada")
    assert status(app, jwt.encode(claims(app, user), PRIVATE_PEM, algorithm="RS256")) == 200
    with TestClient(app) as client:
        assert get_token(client).status_code == 404  # no token endpoint
        scheme = client.get("/openapi.json").json()["components"]["securitySchemes"]
        assert scheme["BearerToken"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    app.state.database.close()
