"""``jsonable_encoder``: any value a handler works with, as plain JSON-ready Python data.

::

    from nightowl.encoders import jsonable_encoder

    stored[item_id] = jsonable_encoder(item)   # a pydantic model -> a dict of str/int/...

The result holds only ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and
``None``, so it can go to ``json.dumps``, a cache or a document store. The conversions
are the ones FastAPI's function of the same name makes, so code moved from FastAPI
stores the same data: datetimes and dates become ISO 8601 strings, ``timedelta`` its
seconds, ``Decimal`` an ``int`` or ``float``, ``UUID`` and paths strings, enums their
value, sets and tuples lists, dataclasses and plain objects dicts of their fields.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import ipaddress
import pathlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import GeneratorType
from typing import Any

from pydantic import BaseModel

__all__ = ["jsonable_encoder"]

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]


def _decimal(value: decimal.Decimal) -> int | float:
    exponent = value.as_tuple().exponent
    return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)


_BY_TYPE: dict[type[Any], Callable[[Any], Any]] = {
    bytes: lambda value: value.decode(),
    datetime.datetime: datetime.datetime.isoformat,
    datetime.date: datetime.date.isoformat,
    datetime.time: datetime.time.isoformat,
    datetime.timedelta: datetime.timedelta.total_seconds,
    decimal.Decimal: _decimal,
    frozenset: list,
    set: list,
    uuid.UUID: str,
    re.Pattern: lambda value: value.pattern,
    pathlib.PurePath: str,
    ipaddress.IPv4Address: str,
    ipaddress.IPv6Address: str,
    ipaddress.IPv4Network: str,
    ipaddress.IPv6Network: str,
    ipaddress.IPv4Interface: str,
    ipaddress.IPv6Interface: str,
}


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: Mapping[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Convert ``obj`` to data made only of dicts, lists, strings, numbers, booleans and None.

    Args:
        obj: a pydantic model, dataclass, mapping, sequence, enum, datetime... or any
            object with attributes.
        include, exclude: the fields of ``obj`` to keep or leave out (a set of names, or
            a mapping for nested fields), as pydantic's ``model_dump`` takes them.
        by_alias: name the fields of models by their alias.
        exclude_unset, exclude_defaults, exclude_none: leave out the fields of models not
            set explicitly, equal to their default, or ``None`` (``exclude_none`` also drops
            ``None`` values of mappings).
        custom_encoder: type -> function, tried before the built-in conversions.
        sqlalchemy_safe: leave out attributes starting with ``_sa`` of plain objects.

    Raises:
        ValueError: for an object that none of the rules converts.
    """
    options = _Options(
        by_alias, exclude_unset, exclude_defaults, exclude_none, custom_encoder, sqlalchemy_safe
    )
    return options.encode(obj, include, exclude)


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    custom_encoder: Mapping[Any, Callable[[Any], Any]] | None
    sqlalchemy_safe: bool

    def encode(self, obj: Any, include: IncEx | None = None, exclude: IncEx | None = None) -> Any:
        if self.custom_encoder:
            for klass in type(obj).__mro__:
                if klass in self.custom_encoder:
                    return self.custom_encoder[klass](obj)
        if obj is None or isinstance(obj, (str, int, float)):
            return obj.value if isinstance(obj, enum.Enum) else obj
        if isinstance(obj, BaseModel):
            return self.encode(
                obj.model_dump(
                    mode="json",
                    include=include,
                    exclude=exclude,
                    by_alias=self.by_alias,
                    exclude_unset=self.exclude_unset,
                    exclude_defaults=self.exclude_defaults,
                    exclude_none=self.exclude_none,
                )
            )
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return self.mapping(dataclasses.asdict(obj), include, exclude)
        if isinstance(obj, enum.Enum):
            return self.encode(obj.value)
        if isinstance(obj, Mapping):
            return self.mapping(obj, include, exclude)
        if isinstance(obj, (list, set, frozenset, tuple, GeneratorType)):
            return [self.encode(item) for item in obj]
        for klass in type(obj).__mro__:
            convert = _BY_TYPE.get(klass)
            if convert is not None:
                return convert(obj)
        return self.other(obj, include, exclude)

    def mapping(
        self, obj: Mapping[Any, Any], include: IncEx | None, exclude: IncEx | None
    ) -> dict[Any, Any]:
        keys: Iterable[Any] = obj.keys()
        if include is not None:
            keys = [key for key in keys if key in include]
        if exclude is not None:
            keys = [key for key in keys if key not in exclude]
        encoded: dict[Any, Any] = {}
        for key in keys:
            value = obj[key]
            if self.exclude_none and value is None:
                continue
            if self.sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
                continue
            encoded[self.encode(key)] = self.encode(value)
        return encoded

    def other(self, obj: Any, include: IncEx | None, exclude: IncEx | None) -> Any:
        try:
            data = dict(obj)
        except (TypeError, ValueError) as not_a_mapping:
            try:
                data = {key: value for key, value in vars(obj).items() if not key.startswith("_")}
            except TypeError:
                raise ValueError(
                    f"jsonable_encoder cannot convert an object of type {type(obj).__name__}"
                ) from not_a_mapping
        return self.mapping(data, include, exclude)
