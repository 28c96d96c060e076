"""What a handler returns, as the client gets it: the response model's options, the
return annotation validated, the response class."""

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from nightowl import App, RedirectResponse
from nightowl.testing import TestClient


class UserIn(BaseModel):
    username: str
    password: str
    full_name: str | None = None
    tags: list[str] = []


class Account(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    user_name: str
    is_active: bool = True


def test_response_model_exclude_keeps_the_password_out() -> None:
    app = App()

    @app.post("/users", response_model=UserIn, response_model_exclude={"password"})
    def create(user: UserIn) -> Any:
        return user

    @app.get("/users/ada", response_model=UserIn, response_model_include={"username"})
    def ada() -> Any:
        return {"username": "ada", "password": "secret"}

    client = TestClient(app)
    created = client.post("/users", json={"username": "ada", "password": "secret"}).json()
    assert created == {"username": "ada", "full_name": None, "tags": []}
    assert client.get("/users/ada").json() == {"username": "ada"}


def test_response_model_exclude_unset_defaults_and_none() -> None:
    app = App()
    data: dict[str, Any] = {"username": "ada", "password": "p", "full_name": None, "tags": []}

    @app.get("/unset", response_model=UserIn, response_model_exclude_unset=True)
    def unset() -> Any:
        return {"username": "ada", "password": "p"}

    @app.get("/defaults", response_model=UserIn, response_model_exclude_defaults=True)
    def defaults() -> Any:
        return data

    @app.get("/none", response_model=UserIn, response_model_exclude_none=True)
    def none() -> Any:
        return data

    client = TestClient(app)
    assert client.get("/unset").json() == {"username": "ada", "password": "p"}
    assert client.get("/defaults").json() == {"username": "ada", "password": "p"}
    assert client.get("/none").json() == {"username": "ada", "password": "p", "tags": []}


def test_response_models_serialise_by_alias_unless_told_not_to() -> None:
    app = App()

    @app.get("/account")
    def account() -> Account:
        return Account(user_name="ada")

    @app.get("/snake", response_model_by_alias=False)
    def snake() -> Account:
        return Account(user_name="ada")

    @app.get("/html", response_class=__import__("nightowl").JSONResponse)
    def from_dict() -> Account:
        return {"userName": "ada"}  # type: ignore[return-value]

    client = TestClient(app)
    assert client.get("/account").json() == {"userName": "ada", "isActive": True}
    assert client.get("/snake").json() == {"user_name": "ada", "is_active": True}
    assert client.get("/html").json() == {"userName": "ada", "isActive": True}


def test_redirect_response_class_with_a_returned_url_redirects() -> None:
    app = App()

    @app.get("/docs-link", response_class=RedirectResponse)
    def docs_link() -> str:
        return "https://example.com/docs"

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    def moved() -> str:
        return "/new"

    client = TestClient(app, follow_redirects=False)
    response = client.get("/docs-link")
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.com/docs"
    assert client.get("/moved").status_code == 301


def test_scalar_and_typed_dict_return_annotations_are_validated() -> None:
    app = App()

    @app.get("/count")
    def count() -> int:
        return "3"  # type: ignore[return-value]

    @app.get("/labels")
    def labels() -> dict[str, str]:
        return {"a": 1}  # type: ignore[dict-item]

    @app.get("/broken")
    def broken() -> int:
        return "many"  # type: ignore[return-value]

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/count").json() == 3
    assert client.get("/labels").status_code == 500  # 1 is not a str: a server error
    assert client.get("/broken").status_code == 500
    document = app.openapi()
    ok = document["paths"]["/count"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"type": "integer"}
    labels_schema = document["paths"]["/labels"]["get"]["responses"]["200"]
    assert labels_schema["content"]["application/json"]["schema"]["additionalProperties"] == {
        "type": "string"
    }
