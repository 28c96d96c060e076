"""Route and app options that shape the document: openapi_extra, response_description,
generate_unique_id_function, callbacks, webhooks, root_path_in_servers,
separate_input_output_schemas, and the Swagger UI settings of ``/docs``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, computed_field

from nightowl import App, Request, Router
from nightowl.exceptions import ImproperlyConfigured
from nightowl.routing import Route
from nightowl.testing import TestClient


class Invoice(BaseModel):
    id: str
    total: float


class InvoiceEvent(BaseModel):
    paid: bool


class Received(BaseModel):
    ok: bool


def test_openapi_extra_is_merged_into_the_operation() -> None:
    app = App()

    @app.post(
        "/items",
        openapi_extra={
            "x-portal": "blue",
            "requestBody": {
                "required": True,
                "content": {"application/x-yaml": {"schema": {"type": "object"}}},
            },
            "responses": {"200": {"description": "The item, echoed."}},
        },
    )
    async def create_item(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    operation = app.openapi()["paths"]["/items"]["post"]
    assert operation["x-portal"] == "blue"
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/x-yaml": {"schema": {"type": "object"}}},
    }
    # merged key by key: the description changes, the content nightowl wrote stays
    assert operation["responses"]["200"]["description"] == "The item, echoed."
    assert "content" in operation["responses"]["200"]
    assert TestClient(app).post("/items", content=b"a: 1").json() == {"size": 4}


def test_response_description_describes_the_success_response() -> None:
    app = App()

    @app.post("/items", status_code=201, response_description="The created item")
    def create_item() -> Received:
        return Received(ok=True)

    responses = app.openapi()["paths"]["/items"]["post"]["responses"]
    assert responses["201"]["description"] == "The created item"


def test_generate_unique_id_function_of_the_app_and_of_a_router() -> None:
    def by_tag(route: Route) -> str:
        return f"{route.tags[0]}-{route.name}"

    app = App(generate_unique_id_function=by_tag)
    users = Router(prefix="/users", generate_unique_id_function=lambda route: "U" + route.name)

    @app.get("/items", tags=["items"])
    def list_items() -> list[str]:
        return []

    @app.get("/items/{item_id}", tags=["items"], operation_id="getItem")
    def get_item(item_id: int) -> int:
        return item_id

    @users.get("/", tags=["users"])
    def list_users() -> list[str]:
        return []

    app.include(users)
    paths = app.openapi()["paths"]
    assert paths["/items"]["get"]["operationId"] == "items-list_items"
    assert paths["/items/{item_id}"]["get"]["operationId"] == "getItem"
    assert paths["/users/"]["get"]["operationId"] == "Ulist_users"


def test_a_generated_id_that_is_not_a_string_is_refused() -> None:
    app = App(generate_unique_id_function=lambda route: None)  # type: ignore[arg-type,return-value]

    @app.get("/items")
    def list_items() -> list[str]:
        return []

    with pytest.raises(ImproperlyConfigured, match="generate_unique_id_function returned None"):
        app.openapi()


def _callback_router() -> Router:
    callbacks = Router()

    @callbacks.post("{$request.body#/callback_url}/invoices/{$request.body.id}")
    def invoice_notification(body: InvoiceEvent) -> Received:
        raise NotImplementedError

    return callbacks


def test_callbacks_are_documented_under_the_operation() -> None:
    app = App()
    callbacks = _callback_router()

    @app.post("/invoices", callbacks=callbacks.routes)
    def create_invoice(invoice: Invoice) -> dict[str, str]:
        return {"msg": "received"}

    document = app.openapi()
    callback = document["paths"]["/invoices"]["post"]["callbacks"]["invoice_notification"]
    operation = callback["{$request.body#/callback_url}/invoices/{$request.body.id}"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvoiceEvent"
    }
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Received"
    }
    assert {"InvoiceEvent", "Received"} <= set(document["components"]["schemas"])
    # documented, not served
    response = TestClient(app).post("/invoices", json={"id": "a", "total": 1})
    assert response.status_code == 200
    assert response.json() == {"msg": "received"}


def test_a_callback_route_included_in_the_app_is_refused_by_name() -> None:
    app = App()
    app.include(_callback_router())
    with pytest.raises(ImproperlyConfigured, match=r"invoice_notification.*never served"):
        TestClient(app).get("/")


def test_webhooks_are_documented_and_not_served() -> None:
    app = App()

    @app.webhooks.post("new-subscription")
    def new_subscription(body: Invoice) -> None:
        """A new subscriber.

        Sent when someone subscribes."""

    document = app.openapi()
    operation = document["webhooks"]["new-subscription"]["post"]
    assert operation["summary"] == "A new subscriber."
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Invoice"
    }
    assert document["paths"] == {}
    assert TestClient(app).post("/new-subscription").status_code == 404


@pytest.mark.parametrize(("listed", "servers"), [(True, [{"url": "/api"}]), (False, None)])
def test_root_path_in_servers(listed: bool, servers: list[dict[str, str]] | None) -> None:
    app = App(root_path="/api", root_path_in_servers=listed)
    assert app.openapi().get("servers") == servers


class Item(BaseModel):
    name: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def slug(self) -> str:
        return self.name.lower()


@pytest.mark.parametrize(
    ("separate", "names"),
    [(True, {"Item-Input", "Item-Output"}), (False, {"Item"})],
)
def test_separate_input_output_schemas(separate: bool, names: set[str]) -> None:
    app = App(separate_input_output_schemas=separate)

    @app.post("/items")
    def create_item(item: Item) -> Item:
        return item

    schemas = app.openapi()["components"]["schemas"]
    assert names <= set(schemas)
    assert not ({"Item", "Item-Input", "Item-Output"} - names) & set(schemas)


def test_swagger_ui_parameters_reach_the_page_without_an_inline_script() -> None:
    app = App(swagger_ui_parameters={"syntaxHighlight": False, "docExpansion": "none"})
    page = TestClient(app).get("/docs").text
    assert """data-parameters='{"syntaxHighlight": false, "docExpansion": "none"}'""" in page
    assert "<script>" not in page
    script = TestClient(app).get("/docs/assets/nightowl-swagger.js").text
    assert "node.dataset.parameters" in script


def test_swagger_ui_parameters_that_are_not_json_are_refused() -> None:
    app = App(swagger_ui_parameters={"hook": object()})
    with pytest.raises(ImproperlyConfigured, match="swagger_ui_parameters"):
        TestClient(app).get("/docs")


def test_extra_of_every_kind_merges_recursively() -> None:
    from nightowl.openapi._merge import merge

    target: dict[str, Any] = {"a": {"b": 1, "c": [1]}, "d": 1, "h": "x"}
    merge(target, {"a": {"c": [2], "e": {"f": 1}}, "d": {"g": 2}, "h": [3]})
    assert target == {"a": {"b": 1, "c": [1, 2], "e": {"f": 1}}, "d": {"g": 2}, "h": [3]}


def test_openapi_extra_parameters_add_to_those_read() -> None:
    app = App()
    signature = {"name": "X-Signature", "in": "header", "required": True, "schema": {}}

    @app.get("/items", openapi_extra={"parameters": [signature]})
    def list_items(q: str = "") -> list[str]:
        return []

    parameters = app.openapi()["paths"]["/items"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["q", "X-Signature"]


def test_webhooks_included_in_the_app_are_refused_by_name() -> None:
    app = App()

    @app.webhooks.post("new-subscription")
    def new_subscription(body: Invoice) -> None: ...

    app.include(app.webhooks)
    with pytest.raises(ImproperlyConfigured, match=r"'new-subscription'.*never served"):
        TestClient(app).get("/")
    with pytest.raises(ImproperlyConfigured, match=r"app\.webhooks takes routes"):
        app.webhooks.include(Router())
