"""The generated OpenAPI document says, field by field, what the routes do."""

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

import nightowl.openapi
from nightowl import App, Depends, Router
from nightowl.exceptions import ImproperlyConfigured
from nightowl.openapi import render_document
from nightowl.security import APIKeyHeader
from nightowl.testing import TestClient

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}
VALIDATION = {"$ref": "#/components/schemas/ValidationProblem"}


def _problem(description: str, schema: dict[str, str] = PROBLEM) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": schema}}}


BAD_BODY = _problem("The body is not well-formed.")
BAD_TYPE = _problem("The body is not of a supported media type.")
INVALID = _problem("The request's parameters or body did not validate.", VALIDATION)
NOT_FOUND = _problem("Not Found")
UNAUTHENTICATED = _problem("Not authenticated.")


@pytest.fixture
def document(full_app: App) -> dict[str, Any]:
    doc = full_app.openapi()
    validate(doc)
    return doc


def test_info_servers_and_tags(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "Shop", "version": "2.1.0", "description": "Buy things."}
    assert document["servers"] == [{"url": "https://shop.example"}]
    assert document["tags"] == [{"name": "items"}]
    assert set(document["paths"]) == {
        "/items/{item_id}",
        "/items/",
        "/upload",
        "/profile",
        "/me",
        "/page",
        "/items/{item_id}/tags/{tag}",
    }  # no /hidden, no /docs, /redoc or /openapi.json


def test_parameters_of_every_kind(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items/{item_id}"]["get"]
    assert operation["operationId"] == "get_item"
    assert operation["tags"] == ["items"]
    assert operation["summary"] == "Fetch one item."
    assert operation["description"] == "Looks the item up by its id."
    assert "deprecated" not in operation and "security" not in operation
    assert operation["parameters"] == [
        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        {
            "name": "color",
            "in": "query",
            "required": False,
            "schema": {"$ref": "#/components/schemas/Color", "default": "red"},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
            "description": "At most this many.",
        },
        {
            "name": "search",  # the alias
            "in": "query",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string", "maxLength": 20}, {"type": "null"}],
                "default": None,
            },
        },
        {
            "name": "tags",
            "in": "query",
            "required": False,
            "schema": {"type": "array", "items": {"type": "string"}, "default": []},
        },
        {
            "name": "X-Request-Id",
            "in": "header",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "deprecated": True,
        },
        {
            "name": "session",
            "in": "cookie",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
    ]
    assert operation["responses"] == {
        "200": {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Item-Output"}}
            },
        },
        "404": _problem("No such item"),  # responses={404: ...} replaces the generic 404
        "422": INVALID,
    }
    assert document["components"]["schemas"]["Color"] == {
        "enum": ["red", "green"],
        "title": "Color",
        "description": "A colour.",
        "type": "string",
    }


def test_json_body_and_input_output_schemas(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items/"]["post"]
    assert operation["summary"] == "Create an item."
    assert "description" not in operation
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item-Input"}}},
    }
    assert operation["responses"] == {
        "201": {
            "description": "Created",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Item-Output"}}
            },
        },
        "400": BAD_BODY,
        "401": UNAUTHENTICATED,
        "415": BAD_TYPE,
        "422": INVALID,
    }
    schemas = document["components"]["schemas"]
    # The computed price is written, never read: two schemas.
    assert schemas["Item-Input"]["properties"] == {
        "name": {"maxLength": 50, "title": "Name", "type": "string"},
        "cents": {"minimum": 0, "title": "Cents", "type": "integer"},
    }
    assert schemas["Item-Output"]["properties"]["price"] == {
        "readOnly": True,
        "title": "Price",
        "type": "string",
    }
    assert schemas["Item-Output"]["required"] == ["name", "cents", "price"]


def test_embedded_body_explicit_operation_id_and_deprecated(document: dict[str, Any]) -> None:
    operation = document["paths"]["/items/{item_id}"]["put"]
    assert operation["operationId"] == "replaceItem"
    assert operation["deprecated"] is True
    assert operation["parameters"] == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    ]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Body_replaceItem"
    }
    assert document["components"]["schemas"]["Body_replaceItem"] == {
        "title": "Body_replaceItem",
        "type": "object",
        "properties": {
            "item": {"$ref": "#/components/schemas/Item-Input"},
            "owner": {"$ref": "#/components/schemas/Owner"},
            "note": {"default": "", "maxLength": 10, "title": "Note", "type": "string"},
        },
        "required": ["item", "owner"],
    }
    assert set(operation["responses"]) == {"200", "400", "404", "415", "422"}


def test_form_and_multipart_bodies(document: dict[str, Any]) -> None:
    upload = document["paths"]["/upload"]["post"]
    assert upload["requestBody"] == {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "comment": {"type": "string", "default": ""},
                    },
                    "required": ["file"],
                }
            }
        },
    }
    profile = document["paths"]["/profile"]["post"]
    assert profile["requestBody"] == {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/Profile"}
            }
        },
    }


def test_security_schemes_found_through_dependencies(document: dict[str, Any]) -> None:
    # create_item -> current_user -> check_key -> APIKeyHeader: two levels deep.
    assert document["paths"]["/items/"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert document["components"]["securitySchemes"] == {
        "APIKeyHeader": {
            "type": "apiKey",
            "name": "X-API-Key",
            "in": "header",
            "description": "Ask the shop for a key.",
        },
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }


def test_other_responses(document: dict[str, Any]) -> None:
    assert document["paths"]["/page"]["get"]["responses"] == {
        "200": {"description": "OK", "content": {"text/html": {"schema": {"type": "string"}}}}
    }
    assert document["paths"]["/page"]["get"]["summary"] == "Page"  # no docstring: the name
    delete = document["paths"]["/items/{item_id}/tags/{tag}"]["delete"]
    assert delete["responses"] == {
        "204": {"description": "No Content"},
        "404": NOT_FOUND,
        "422": INVALID,
    }


def test_problem_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ProblemDetails"]["required"] == ["type", "title", "status"]
    assert schemas["ValidationProblem"]["allOf"][0] == PROBLEM
    assert schemas["ValidationErrorItem"]["required"] == ["loc", "msg", "type"]


def test_documented_errors_match_real_ones(full_app: App) -> None:
    import jsonschema

    document = full_app.openapi()
    schema = {
        "$ref": "#/components/schemas/ValidationProblem",
        "components": document["components"],
    }
    with TestClient(full_app) as client:
        answer = client.get("/items/1", params={"limit": 0})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    jsonschema.validate(answer.json(), schema)


def _module_with_user(module: str, field: str) -> type[BaseModel]:
    namespace = types.ModuleType(module)
    sys.modules[module] = namespace
    try:
        code = f"from pydantic import BaseModel\nclass User(BaseModel):\n    {field}: str\n"
        exec(compile(code, module, "exec"), namespace.__dict__)
    finally:
        del sys.modules[module]
    user: type[BaseModel] = namespace.User
    return user


def test_models_with_the_same_name_get_distinct_components() -> None:
    shop_user = _module_with_user("shop.users", "email")
    blog_user = _module_with_user("blog.users", "nickname")
    app = App()

    @app.post("/shop")
    def shop(user: shop_user) -> shop_user:  # type: ignore[valid-type]
        return user

    @app.post("/blog")
    def blog(user: blog_user) -> blog_user:  # type: ignore[valid-type]
        return user

    document = app.openapi()
    validate(document)
    schemas = document["components"]["schemas"]
    assert schemas["shop__users__User"]["properties"] == {
        "email": {"title": "Email", "type": "string"}
    }
    assert schemas["blog__users__User"]["properties"] == {
        "nickname": {"title": "Nickname", "type": "string"}
    }
    body = document["paths"]["/shop"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/shop__users__User"}


def test_operation_ids_stay_unique() -> None:
    app = App()
    v1, v2 = Router(prefix="/v1"), Router(prefix="/v2")

    @v1.get("/items")
    def list_items() -> list[int]:
        return []

    @v2.get("/items")
    def list_items_v2() -> list[int]:
        return []

    v2.add_route("/things", list_items)  # the same handler name twice
    app.route("/both", methods=["GET", "POST"])(list_items)
    app.include(v1)
    app.include(v2)
    document = app.openapi()
    ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert sorted(ids) == [
        "list_items_get",
        "list_items_get_v1_items",
        "list_items_get_v2_things",
        "list_items_post",
        "list_items_v2",
    ]
    assert app.openapi() is document  # cached: same ids next time


def test_duplicate_explicit_operation_id_is_a_configuration_error() -> None:
    app = App()
    app.get("/a", operation_id="same")(lambda: None)
    app.get("/b", operation_id="same")(lambda: None)
    with pytest.raises(ImproperlyConfigured, match="same"):
        app.openapi()


def test_router_dependencies_and_class_views() -> None:
    key = APIKeyHeader("X-Key", scheme_name="key")
    app = App()
    admin = Router(prefix="/admin", dependencies=[Depends(key)])

    class Stats:
        """Statistics."""

        def get(self) -> dict[str, int]:
            """Read the statistics.

            All of them.
            """
            return {}

    admin.add_route("/stats", Stats)
    app.include(admin)
    operation = app.openapi()["paths"]["/admin/stats"]["get"]
    assert operation["security"] == [{"key": []}]
    assert operation["summary"] == "Read the statistics."
    assert operation["description"] == "All of them."
    assert operation["operationId"] == "Stats"


def test_the_document_is_built_once_and_served_from_memory(
    full_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[App] = []
    real = nightowl.openapi.build_document

    def counting(app: App) -> dict[str, Any]:
        calls.append(app)
        return real(app)

    monkeypatch.setattr(nightowl.openapi, "build_document", counting)
    with TestClient(full_app) as client:
        assert client.get("/items/1").status_code == 200
        assert calls == []  # serving requests never builds it
        first = client.get("/openapi.json")
        second = client.get("/openapi.json")
    assert calls == [full_app]
    assert first.headers["content-type"] == "application/json"
    assert first.json() == second.json() == full_app.openapi()
    assert len(calls) == 1

    @full_app.get("/later")
    def later() -> None: ...

    assert "/later" in full_app.openapi()["paths"]  # adding a route refreshes it
    assert len(calls) == 2


def test_openapi_url_none_serves_nothing() -> None:
    app = App(openapi_url=None)
    with TestClient(app) as client:
        for url in ("/openapi.json", "/docs", "/redoc"):
            assert client.get(url).status_code == 404
    assert app.openapi()["openapi"] == "3.1.0"  # still available in code


def test_custom_urls() -> None:
    app = App(openapi_url="/api/schema.json", docs_url="/api/docs", redoc_url=None)
    with TestClient(app) as client:
        page = client.get("/api/docs")
        assert page.status_code == 200
        assert 'data-openapi-url="/api/schema.json"' in page.text
        assert client.get("/api/schema.json").json()["openapi"] == "3.1.0"
        assert client.get("/redoc").status_code == 404


def test_render_document(full_app: App) -> None:
    import yaml

    text = render_document(full_app)
    assert json.loads(text) == full_app.openapi()
    assert yaml.safe_load(render_document(full_app, yaml=True)) == full_app.openapi()


def test_example_apps_are_valid() -> None:
    for path in sorted((ROOT / "examples").glob("*/app.py")):
        namespace: dict[str, Any] = {
            "__name__": "example_" + path.parent.name,
            "__file__": str(path),
        }
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        app = namespace["app"]
        assert isinstance(app, App)
        validate(app.openapi())


def test_enum_tags_are_written_by_value() -> None:
    import enum

    class Tags(enum.Enum):
        items = "items"
        users = "users"

    app = App()
    router = Router(prefix="/users", tags=[Tags.users])

    @app.get("/items", tags=[Tags.items])
    def items() -> list[str]:
        return []

    @router.get("/")
    def users() -> list[str]:
        return []

    app.include(router)
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["paths"]["/items"]["get"]["tags"] == ["items"]
    assert document["paths"]["/users/"]["get"]["tags"] == ["users"]
    assert document["tags"] == [{"name": "items"}, {"name": "users"}]
    validate(document)


def test_openapi_examples_on_parameters_and_bodies() -> None:
    from typing import Annotated

    from nightowl import Body, Query

    class Item(BaseModel):
        name: str
        price: float

    app = App()

    @app.put("/items/{item_id}")
    def update(
        item_id: int,
        item: Annotated[
            Item,
            Body(
                openapi_examples={
                    "normal": {"summary": "A normal item", "value": {"name": "Foo", "price": 35.4}},
                    "invalid": {"summary": "Rejected", "value": {"name": "Bar", "price": "x"}},
                }
            ),
        ],
        q: Annotated[
            str | None,
            Query(openapi_examples={"short": {"value": "ab"}, "long": {"value": "abcdef"}}),
        ] = None,
    ) -> Item:
        return item

    operation = app.openapi()["paths"]["/items/{item_id}"]["put"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["examples"]["normal"] == {
        "summary": "A normal item",
        "value": {"name": "Foo", "price": 35.4},
    }
    assert list(body["examples"]) == ["normal", "invalid"]
    query = next(p for p in operation["parameters"] if p["name"] == "q")
    assert query["examples"] == {"short": {"value": "ab"}, "long": {"value": "abcdef"}}
    validate(app.openapi())
    sent = TestClient(app).put("/items/1", json={"name": "Foo", "price": 1})
    assert sent.json() == {"name": "Foo", "price": 1.0}
