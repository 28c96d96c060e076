"""nightowl.compat.fastapi: FastAPI's OpenAPI options and modules, and those it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from nightowl.compat.fastapi import APIRouter, FastAPI, Request
from nightowl.compat.fastapi._compat import PYDANTIC_VERSION_MINOR_TUPLE
from nightowl.compat.fastapi.openapi.utils import get_openapi
from nightowl.compat.fastapi.routing import APIRoute
from nightowl.compat.fastapi.testclient import TestClient
from nightowl.exceptions import ImproperlyConfigured


class Item(BaseModel):
    name: str


def test_a_custom_document_from_get_openapi() -> None:
    app = FastAPI()

    @app.get("/items/", tags=["items"])
    async def read_items() -> list[Item]:
        return [Item(name="Foo")]

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title="Custom title", version="2.5.0", summary="Custom", routes=app.routes
        )
        document["info"]["x-logo"] = {"url": "https://example.com/logo.png"}
        app.openapi_schema = document
        return document

    app.openapi = custom_openapi  # type: ignore[method-assign]
    client = TestClient(app)
    document = client.get("/openapi.json").json()
    assert document["info"] == {
        "title": "Custom title",
        "summary": "Custom",
        "version": "2.5.0",
        "x-logo": {"url": "https://example.com/logo.png"},
    }
    assert document["paths"]["/items/"]["get"]["tags"] == ["items"]
    assert document["components"]["schemas"]["Item"]["title"] == "Item"
    assert client.get("/items/").json() == [{"name": "Foo"}]


def test_get_openapi_writes_only_openapi_3_1() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"openapi_version=.3\.0\.2."):
        get_openapi(title="t", version="1", routes=[], openapi_version="3.0.2")


def test_webhooks_callbacks_and_operation_ids_as_fastapi_spells_them() -> None:
    def unique_id(route: APIRoute) -> str:
        return f"{route.tags[0]}-{route.name}"

    app = FastAPI(generate_unique_id_function=unique_id, root_path_in_servers=False)
    callbacks = APIRouter()

    @callbacks.post("{$callback_url}/invoices/{$request.body.id}")
    def invoice_notification(body: Item) -> None:
        pass

    @app.post("/invoices/", tags=["invoices"], callbacks=callbacks.routes)
    def create_invoice(item: Item) -> dict[str, str]:
        return {"msg": "received"}

    @app.webhooks.post("new-subscription")
    def new_subscription(body: Item) -> None:
        pass

    document = app.openapi()
    operation = document["paths"]["/invoices/"]["post"]
    assert operation["operationId"] == "invoices-create_invoice"
    assert list(operation["callbacks"]) == ["invoice_notification"]
    assert list(document["webhooks"]) == ["new-subscription"]
    assert isinstance(app.webhooks.routes[0], APIRoute)


def test_json_without_a_content_type_is_refused_as_fastapi_does_unless_lax() -> None:
    for strict, status in ((True, 415), (False, 200)):
        app = FastAPI(strict_content_type=strict)

        @app.post("/items/")
        def create_item(item: Item) -> Item:
            return item

        response = TestClient(app).post("/items/", content=b'{"name": "Foo"}')
        assert response.status_code == status


def test_swagger_ui_parameters_and_one_schema_per_model() -> None:
    app = FastAPI(swagger_ui_parameters={"deepLinking": False}, separate_input_output_schemas=False)
    assert """data-parameters='{"deepLinking": false}'""" in TestClient(app).get("/docs").text


def test_route_class_is_refused_by_name() -> None:
    class TimedRoute(APIRoute):
        pass

    with pytest.raises(ImproperlyConfigured, match="route_class=TimedRoute"):
        APIRouter(route_class=TimedRoute)
    app = FastAPI()
    with pytest.raises(ImproperlyConfigured, match=r"route_class=TimedRoute.*middleware"):
        app.router.route_class = TimedRoute
    assert app.router.route_class is APIRoute
    APIRouter(route_class=APIRoute)  # the default is fine


def test_private_compat_names_fastapi_tests_import() -> None:
    import pydantic

    assert tuple(int(p) for p in pydantic.VERSION.split(".")[:2]) == PYDANTIC_VERSION_MINOR_TUPLE


def test_openapi_extra_for_a_handler_reading_its_own_body() -> None:
    app = FastAPI()

    @app.post(
        "/items/",
        openapi_extra={"requestBody": {"content": {"application/x-yaml": {}}, "required": True}},
        response_description="The item read",
    )
    async def create_item(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    operation = app.openapi()["paths"]["/items/"]["post"]
    assert operation["requestBody"] == {"content": {"application/x-yaml": {}}, "required": True}
    assert operation["responses"]["200"]["description"] == "The item read"
