"""The pydantic model every framework validates the ``POST /items`` body with."""

from __future__ import annotations

from pydantic import BaseModel


class Item(BaseModel):
    """An item in the body of ``POST /items``."""

    name: str
    price: float
    tags: list[str]
