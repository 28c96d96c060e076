"""What the document's info and tags say: summary, contact, license, terms, tag descriptions."""

from __future__ import annotations

from nightowl import App, Router


def test_info_and_tags_in_the_order_given() -> None:
    app = App(
        title="Shop",
        version="2.0",
        summary="Sells things.",
        description="The **shop** API.",
        terms_of_service="https://shop.example/terms",
        contact={"name": "Ann", "email": "ann@shop.example"},
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[
            {"name": "users", "description": "People who buy."},
            {"name": "items", "description": "Things to buy."},
        ],
    )
    items = Router(tags=["items"])

    @items.get("/items")
    def list_items() -> list[str]:
        return []

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {}

    app.include(items)
    document = app.openapi()
    assert document["info"] == {
        "title": "Shop",
        "summary": "Sells things.",
        "description": "The **shop** API.",
        "termsOfService": "https://shop.example/terms",
        "contact": {"name": "Ann", "email": "ann@shop.example"},
        "license": {"name": "MIT", "identifier": "MIT"},
        "version": "2.0",
    }
    assert document["tags"] == [
        {"name": "users", "description": "People who buy."},
        {"name": "items", "description": "Things to buy."},
        {"name": "ops"},
    ]


def test_without_metadata_the_info_is_title_and_version() -> None:
    assert App().openapi()["info"] == {"title": "nightowl", "version": "0.1.0"}
