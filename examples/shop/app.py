"""A small shop API, documented from its code: see /docs, /redoc and /openapi.json.

Run it with ``nightowl run examples/shop/app.py`` (or ``python examples/shop/app.py``).
"""

from typing import Annotated

from pydantic import BaseModel, Field

from nightowl import App, Depends, HTTPException, Query, Router
from nightowl.security import APIKeyHeader

app = App(title="Shop", version="1.0.0", description="A tiny shop, documented from its code.")

api_key = APIKeyHeader("X-API-Key", description="Use `secret`.")


class ItemIn(BaseModel):
    """What a client sends to create an item."""

    name: str = Field(min_length=1, max_length=50)
    price: int = Field(ge=0, le=1_000_000, description="In cents.")


class Item(ItemIn):
    """An item of the shop."""

    id: int


ITEMS: dict[int, Item] = {1: Item(id=1, name="pen", price=150)}
MAX_ITEMS = 100


def require_admin(key: Annotated[str, Depends(api_key)]) -> str:
    """Let only the shop's owner in."""
    if key != "secret":
        raise HTTPException(403, "Wrong API key.")
    return key


items = Router(prefix="/items", tags=["items"])


@items.get("/")
def list_items(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[Item]:
    """List the items.

    At most ``limit`` of them, oldest first.
    """
    return list(ITEMS.values())[:limit]


@items.get("/{item_id}", responses={404: {"description": "No such item."}})
def get_item(item_id: int) -> Item:
    """Fetch one item."""
    if item_id not in ITEMS:
        raise HTTPException(404, "No such item.")
    return ITEMS[item_id]


@items.post(
    "/",
    status_code=201,
    dependencies=[Depends(require_admin)],
    responses={403: {"description": "Wrong API key."}, 507: {"description": "The shop is full."}},
)
def create_item(item: ItemIn) -> Item:
    """Add an item (owner only)."""
    if len(ITEMS) >= MAX_ITEMS:
        raise HTTPException(507, "The shop is full.")
    new = Item(id=max(ITEMS) + 1, **item.model_dump())
    ITEMS[new.id] = new
    return new


@app.get("/")
def home() -> dict[str, str]:
    """Where to read about the API."""
    return {"docs": "/docs", "redoc": "/redoc", "openapi": "/openapi.json"}


app.include(items)

if __name__ == "__main__":
    app.run(debug=True)
