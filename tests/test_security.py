"""OAuth2PasswordRequestForm: the token endpoint's form, read as a dependency."""

from __future__ import annotations

from typing import Annotated

from nightowl import App, Depends, Form
from nightowl.security import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
from nightowl.testing import TestClient


def credentials(user: Annotated[str, Form()], key: Annotated[str, Form()]) -> str:
    return user + key


def make_app() -> App:
    app = App()

    @app.post("/token")
    def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, object]:
        return {
            "username": form.username,
            "password": form.password,
            "scopes": form.scopes,
            "grant_type": form.grant_type,
            "client_id": form.client_id,
        }

    @app.post("/strict")
    def strict(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]) -> dict[str, str]:
        return {"username": form.username}

    return app


def test_the_form_is_read() -> None:
    response = TestClient(make_app()).post(
        "/token",
        data={"username": "ann", "password": "secret", "scope": "items:read me", "client_id": "c"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "username": "ann",
        "password": "secret",
        "scopes": ["items:read", "me"],
        "grant_type": None,
        "client_id": "c",
    }


def test_a_missing_password_is_a_422_naming_it() -> None:
    response = TestClient(make_app()).post("/token", data={"username": "ann"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "password"], "msg": "Field required", "type": "missing"}
    ]


def test_grant_type_must_be_password() -> None:
    client = TestClient(make_app())
    wrong = client.post("/token", data={"username": "a", "password": "b", "grant_type": "code"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["body", "grant_type"]
    assert client.post("/strict", data={"username": "a", "password": "b"}).status_code == 422
    ok = client.post("/strict", data={"username": "a", "password": "b", "grant_type": "password"})
    assert ok.json() == {"username": "a"}


def test_the_form_is_documented() -> None:
    body = make_app().openapi()["paths"]["/token"]["post"]["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["required"] == ["username", "password"]
    assert set(schema["properties"]) == {
        "grant_type",
        "username",
        "password",
        "scope",
        "client_id",
        "client_secret",
    }


def test_a_dependency_missing_a_form_field_is_not_called() -> None:
    # A regression: the dependency ran without the missing field and failed with a 500.
    app = App()

    @app.post("/login")
    def login(value: Annotated[str, Depends(credentials)]) -> dict[str, str]:
        return {"value": value}

    client = TestClient(app)
    assert client.post("/login", data={"user": "a"}).status_code == 422
    assert client.post("/login", data={"user": "a", "key": "b"}).json() == {"value": "ab"}
