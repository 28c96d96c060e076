"""jsonable_encoder: values turned into plain JSON data, as FastAPI's function does."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid

import pytest
from pydantic import BaseModel, Field

from nightowl.encoders import jsonable_encoder


class Colour(enum.Enum):
    RED = "red"


class Item(BaseModel):
    name: str
    price: decimal.Decimal
    created: datetime.datetime
    tags: set[str] = Field(default_factory=set)
    description: str | None = None
    sku: str = Field(default="none", serialization_alias="SKU")


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Plain:
    def __init__(self) -> None:
        self.visible = 1
        self._sa_instance_state = object()


def test_a_model_becomes_json_ready_data() -> None:
    item = Item(name="Foo", price=decimal.Decimal("1.5"), created=datetime.datetime(2024, 1, 2))
    data = jsonable_encoder(item)
    assert data == {
        "name": "Foo",
        "price": "1.5",
        "created": "2024-01-02T00:00:00",
        "tags": [],
        "description": None,
        "SKU": "none",
    }
    json.dumps(data)


def test_model_options() -> None:
    item = Item(name="Foo", price=decimal.Decimal(2), created=datetime.datetime(2024, 1, 2))
    assert jsonable_encoder(item, include={"name"}) == {"name": "Foo"}
    assert "description" not in jsonable_encoder(item, exclude_none=True)
    assert jsonable_encoder(item, exclude_unset=True) == {
        "name": "Foo",
        "price": "2",
        "created": "2024-01-02T00:00:00",
    }
    assert "sku" in jsonable_encoder(item, by_alias=False)


def test_values_of_standard_types() -> None:
    ident = uuid.UUID(int=1)
    value = {
        "when": datetime.date(2024, 5, 6),
        "at": datetime.time(10, 30),
        "took": datetime.timedelta(minutes=1),
        "money": decimal.Decimal("3"),
        "rate": decimal.Decimal("0.25"),
        "id": ident,
        "path": pathlib.PurePosixPath("/tmp/x"),
        "colour": Colour.RED,
        "seen": frozenset({1}),
        "pair": (1, 2),
        "point": Point(1, 2),
        "raw": b"abc",
        "object": Plain(),
        "gen": (n for n in range(2)),
        "none": None,
    }
    assert jsonable_encoder(value) == {
        "when": "2024-05-06",
        "at": "10:30:00",
        "took": 60.0,
        "money": 3,
        "rate": 0.25,
        "id": str(ident),
        "path": "/tmp/x",
        "colour": "red",
        "seen": [1],
        "pair": [1, 2],
        "point": {"x": 1, "y": 2},
        "raw": "abc",
        "object": {"visible": 1},
        "gen": [0, 1],
        "none": None,
    }
    assert jsonable_encoder({"a": None, "b": 1}, exclude_none=True) == {"b": 1}
    assert jsonable_encoder({"a": 1, "b": 2}, include={"a"}, exclude={"b"}) == {"a": 1}


def test_custom_encoder_comes_first() -> None:
    when = datetime.datetime(2024, 1, 1)
    assert jsonable_encoder(when, custom_encoder={datetime.datetime: lambda d: d.year}) == 2024


def test_an_object_it_cannot_convert_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot convert an object of type complex"):
        jsonable_encoder(3j)
