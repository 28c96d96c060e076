"""Apps and servers shared by the OpenAPI tests (offered as fixtures; nothing imports this file)."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, computed_field

from nightowl import (
    App,
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    HTMLResponse,
    HTTPException,
    Path,
    Query,
    Router,
    UploadFile,
)
from nightowl.security import APIKeyHeader, HTTPBearer
from tests.live import live_server

API_KEY = "s3cret"


class Color(enum.Enum):
    """A colour."""

    red = "red"
    green = "green"


class Item(BaseModel):
    """An item in the shop; its price is computed."""

    name: str = Field(max_length=50)
    cents: int = Field(ge=0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def price(self) -> str:
        return f"{self.cents / 100:.2f}"


class Owner(BaseModel):
    name: str


class Profile(BaseModel):
    nickname: str
    age: int = 0


api_key = APIKeyHeader("X-API-Key", description="Ask the shop for a key.")
bearer = HTTPBearer(bearer_format="JWT")


def check_key(key: Annotated[str, Depends(api_key)]) -> str:
    if key != API_KEY:
        raise HTTPException(403, "Wrong API key.")
    return key


def current_user(key: Annotated[str, Depends(check_key)]) -> str:
    return "alice"


def build_full_app() -> App:
    """An app that uses every parameter kind, body kind and option the generator knows."""
    app = App(
        title="Shop",
        version="2.1.0",
        description="Buy things.",
        servers=[{"url": "https://shop.example"}],
    )
    items = Router(prefix="/items", tags=["items"])

    @items.get("/{item_id}", responses={404: {"description": "No such item"}})
    def get_item(
        item_id: int,
        color: Color = Color.red,
        limit: Annotated[int, Query(ge=1, le=100, description="At most this many.")] = 10,
        q: Annotated[str | None, Query(alias="search", max_length=20)] = None,
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
        x_request_id: Annotated[str | None, Header(deprecated=True)] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> Item:
        """Fetch one item.

        Looks the item up by its id.
        """
        return Item(name="pen", cents=150)

    @items.post("/", status_code=201)
    async def create_item(item: Item, user: Annotated[str, Depends(current_user)]) -> Item:
        """Create an item."""
        return item

    @items.put("/{item_id}", deprecated=True, operation_id="replaceItem")
    def update_item(
        item_id: Annotated[int, Path(ge=1)],
        item: Item,
        owner: Owner,
        note: Annotated[str, Body(max_length=10)] = "",
    ) -> Item:
        """Replace an item."""
        return item

    @app.post("/upload")
    def upload(
        file: Annotated[UploadFile, File()], comment: Annotated[str, Form()] = ""
    ) -> dict[str, Any]:
        """Upload a file."""
        return {"name": file.filename}

    @app.post("/profile")
    def profile(data: Annotated[Profile, Form()]) -> Profile:
        """Save a profile from a form."""
        return data

    @app.get("/me")
    def me(creds: Annotated[Any, Depends(bearer)]) -> dict[str, str]:
        return {"token": creds.credentials}

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return "<p>hi</p>"

    @app.delete("/items/{item_id}/tags/{tag}", status_code=204)
    def delete_tag(item_id: int, tag: str) -> None:
        """Remove a tag."""

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> dict[str, str]:
        return {}

    app.include(items)
    return app


@pytest.fixture
def full_app() -> App:
    """The app that uses every parameter kind."""
    return build_full_app()


@pytest.fixture
def serve() -> Iterator[Callable[[App], str]]:
    """``serve(app)`` runs ``app`` under a real uvicorn on 127.0.0.1 and gives its base URL;
    every server started is stopped when the test ends."""
    with contextlib.ExitStack() as servers:
        yield lambda app: servers.enter_context(live_server(app))
