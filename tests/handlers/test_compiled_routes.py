"""What the app compiled, and what its OpenAPI document reads: the same plans."""

from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from nightowl import App, Depends, Header
from nightowl._handlers import analysis
from nightowl.testing import TestClient


class Owl(BaseModel):
    name: str


def test_compiled_routes_show_what_serves_each_route(app: App) -> None:
    def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    @app.get("/owls/{owl_id}")
    def get_owl(owl_id: int, token: Annotated[str, Depends(token)]) -> Owl:
        return Owl(name=f"owl {owl_id}")

    compiled = {item.route.path: item for item in app.compiled_routes()}
    owl = compiled["/owls/{owl_id}"]
    assert owl.response_model is Owl
    assert [(f.source.value, f.key, f.required) for f in owl.dependant.all_fields()] == [
        ("header", "x-token", True),
        ("path", "owl_id", True),
    ]
    assert "/openapi.json" in compiled  # the docs routes are compiled too, out of the schema


def test_the_document_reads_the_compiled_plans_without_analysing_again(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysed: list[Any] = []
    original = analysis._Analyser.dependant

    def counting(self: Any, call: Any, skip_first: bool = False) -> Any:
        analysed.append(call)
        return original(self, call, skip_first)

    monkeypatch.setattr(analysis._Analyser, "dependant", counting)

    @app.get("/owls")
    def owls(limit: int = 10) -> list[Owl]:
        return []

    client = TestClient(app)
    assert client.get("/owls").json() == []
    compiled = len(analysed)
    assert compiled > 0
    document = client.get("/openapi.json").json()
    assert document["paths"]["/owls"]["get"]["parameters"][0]["name"] == "limit"
    assert len(analysed) == compiled


def test_the_document_follows_routes_added_later(app: App) -> None:
    @app.get("/first")
    def first() -> dict[str, str]:
        return {}

    assert list(app.openapi()["paths"]) == ["/first"]

    @app.get("/second")
    def second() -> dict[str, str]:
        return {}

    assert list(app.openapi()["paths"]) == ["/first", "/second"]
