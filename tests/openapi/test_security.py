"""Security schemes: what each reads, how it refuses, and how OpenAPI documents it."""

import base64
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from nightowl import App, Depends, Form
from nightowl.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from nightowl.testing import TestClient


def _app_with(scheme: Any) -> App:
    app = App()

    @app.get("/who")
    def who(credential: Annotated[Any, Depends(scheme)]) -> Any:
        if isinstance(credential, (HTTPAuthorizationCredentials, HTTPBasicCredentials)):
            return [getattr(credential, slot) for slot in credential.__slots__]
        return credential

    return app


@pytest.mark.parametrize(
    ("scheme", "request_kwargs", "expected"),
    [
        (APIKeyHeader("X-Key"), {"headers": {"X-Key": "k1"}}, "k1"),
        (APIKeyCookie("key"), {"cookies": {"key": "k2"}}, "k2"),
        (APIKeyQuery("api_key"), {"params": {"api_key": "k3"}}, "k3"),
        (HTTPBearer(), {"headers": {"Authorization": "Bearer t0k"}}, ["Bearer", "t0k"]),
        (OAuth2PasswordBearer("/token"), {"headers": {"Authorization": "bearer t1"}}, "t1"),
        (
            HTTPBasic(),
            {"headers": {"Authorization": "Basic " + base64.b64encode(b"ann:pw:x").decode()}},
            ["ann", "pw:x"],
        ),
    ],
)
def test_each_scheme_gives_its_credential(scheme: Any, request_kwargs: Any, expected: Any) -> None:
    client = TestClient(_app_with(scheme))
    if "cookies" in request_kwargs:
        client.cookies.update(request_kwargs.pop("cookies"))
    answer = client.get("/who", **request_kwargs)
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected


@pytest.mark.parametrize(
    ("scheme", "challenge"),
    [
        (APIKeyHeader("X-Key"), "APIKey"),
        (APIKeyCookie("key"), "APIKey"),
        (APIKeyQuery("api_key"), "APIKey"),
        (HTTPBearer(), "Bearer"),
        (OAuth2PasswordBearer("/token"), "Bearer"),
        (HTTPBasic(realm="shop"), 'Basic realm="shop"'),
    ],
)
def test_missing_credentials_answer_401_with_a_challenge(scheme: Any, challenge: str) -> None:
    answer = TestClient(_app_with(scheme)).get("/who", headers={"Authorization": "Digest x"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == challenge
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Unauthorized"


def test_bad_basic_credentials_are_refused() -> None:
    client = TestClient(_app_with(HTTPBasic()))
    for value in ("Basic %%%", "Basic " + base64.b64encode(b"no-colon").decode()):
        assert client.get("/who", headers={"Authorization": value}).status_code == 401


def test_auto_error_false_gives_none() -> None:
    client = TestClient(_app_with(APIKeyHeader("X-Key", auto_error=False)))
    answer = client.get("/who")
    assert answer.status_code == 200
    assert answer.json() is None


def test_every_scheme_is_documented() -> None:
    app = App()
    schemes: list[Any] = [
        APIKeyHeader("X-Key"),
        APIKeyCookie("session", description="The session cookie."),
        APIKeyQuery("api_key"),
        HTTPBearer(bearer_format="JWT"),
        HTTPBasic(),
        OAuth2PasswordBearer("/token", scopes={"read": "Read things."}),
    ]
    for index, scheme in enumerate(schemes):
        app.add_route(f"/s{index}", _handler(scheme), operation_id=f"s{index}")

    @app.post("/token")
    def token(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> dict[str, str]:
        return {"access_token": username, "token_type": "bearer"}

    document = app.openapi()
    validate(document)
    assert document["components"]["securitySchemes"] == {
        "APIKeyHeader": {"type": "apiKey", "name": "X-Key", "in": "header"},
        "APIKeyCookie": {
            "type": "apiKey",
            "name": "session",
            "in": "cookie",
            "description": "The session cookie.",
        },
        "APIKeyQuery": {"type": "apiKey", "name": "api_key", "in": "query"},
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "/token", "scopes": {"read": "Read things."}}},
        },
    }
    for index, scheme in enumerate(schemes):
        operation = document["paths"][f"/s{index}"]["get"]
        assert operation["security"] == [{scheme.scheme_name: []}]
        assert "401" in operation["responses"]
        assert "parameters" not in operation  # the credential is not a plain parameter
    assert "security" not in document["paths"]["/token"]["post"]


def _handler(scheme: Any) -> Any:
    def handler(credential: Annotated[Any, Depends(scheme)]) -> None:
        return None

    return handler


def test_several_schemes_are_all_required_and_shared_names_must_agree() -> None:
    app = App()
    key, bearer = APIKeyHeader("X-Key"), HTTPBearer()

    @app.get("/both")
    def both(k: Annotated[Any, Depends(key)], b: Annotated[Any, Depends(bearer)]) -> None:
        return None

    assert app.openapi()["paths"]["/both"]["get"]["security"] == [
        {"APIKeyHeader": [], "HTTPBearer": []}
    ]
    app.add_route("/other", _handler(APIKeyHeader("X-Other")))
    from nightowl.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="APIKeyHeader"):
        app.openapi()


def test_security_scopes_reach_the_dependency_and_the_document() -> None:
    from nightowl import HTTPException, Security
    from nightowl.security import SecurityScopes

    oauth2 = OAuth2PasswordBearer("/token", scopes={"me": "Read yourself.", "items": "Read items."})
    tokens = {"full": ["me", "items"], "me-only": ["me"]}

    def current_user(
        security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]
    ) -> str:
        granted = tokens.get(token, [])
        for scope in security_scopes.scopes:
            if scope not in granted:
                raise HTTPException(
                    401,
                    "Not enough permissions",
                    headers={"WWW-Authenticate": f'Bearer scope="{security_scopes.scope_str}"'},
                )
        return token

    def active_user(user: Annotated[str, Security(current_user, scopes=["me"])]) -> str:
        return user

    app = App()

    @app.get("/users/me")
    def me(user: Annotated[str, Depends(active_user)]) -> str:
        return user

    @app.get("/users/me/items")
    def my_items(user: Annotated[str, Security(active_user, scopes=["items"])]) -> list[str]:
        return [user]

    client = TestClient(app)
    bearer = {"Authorization": "Bearer me-only"}
    assert client.get("/users/me", headers=bearer).json() == "me-only"
    denied = client.get("/users/me/items", headers=bearer)
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"] == 'Bearer scope="items me"'
    full = client.get("/users/me/items", headers={"Authorization": "Bearer full"})
    assert full.json() == ["full"]

    document = app.openapi()
    assert document["paths"]["/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert document["paths"]["/users/me/items"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["items", "me"]}
    ]
    validate(document)
