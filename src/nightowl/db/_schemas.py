"""One model, many schemas: pydantic models derived from a model's columns.

The derived schemas keep what the columns say (string length, nullability, enums,
numeric precision and range, defaults) so that a request is rejected with a 422
before the database would have refused it.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import Column, inspect
from sqlalchemy import types as sa_types
from sqlalchemy.orm import ColumnProperty, DeclarativeBase, Mapper, RelationshipProperty

from nightowl.exceptions import ImproperlyConfigured

# The models derived from are nightowl.db.Model subclasses; typed by SQLAlchemy's base so
# that this module, which Model imports, does not import it back.
Model = DeclarativeBase

__all__ = ["KINDS", "derive_schema"]

#: The kinds of schema :meth:`Model.schema` derives.
KINDS = ("read", "create", "update", "patch")

_INTEGER_RANGES: list[tuple[type[sa_types.TypeEngine[Any]], int]] = [
    (sa_types.SmallInteger, 2**15),
    (sa_types.BigInteger, 2**63),
    (sa_types.Integer, 2**31),
]

_cache: dict[tuple[Any, ...], type[BaseModel]] = {}
_lock = threading.RLock()


def derive_schema(
    model: type[Model],
    kind: str,
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    name: str | None = None,
) -> type[BaseModel]:
    """The pydantic model of ``kind`` for ``model`` (see :meth:`Model.schema`)."""
    if kind not in KINDS:
        raise ImproperlyConfigured(
            f"{model.__name__}.schema(): unknown kind {kind!r}; use one of {', '.join(KINDS)}."
        )
    included = tuple(include) if include is not None else None
    excluded = tuple(exclude or ())
    key = (model, kind, included, excluded, name)
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _cache[key] = _build(model, kind, included, excluded, name)
        return cached


def _build(
    model: type[Model],
    kind: str,
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
    name: str | None,
) -> type[BaseModel]:
    mapper = inspect(model)
    columns = _columns(mapper)
    relationships = {rel.key: rel for rel in mapper.relationships}
    known = set(columns) | (set(relationships) if kind == "read" else set())
    _check_names(model, kind, known, (*(include or ()), *exclude))
    fields = _column_fields(columns, kind, include, exclude)
    if kind == "read" and include:
        # Relationships are left out unless asked for: each one is a nested schema.
        for key in include:
            if key in relationships and key not in exclude:
                fields[key] = _relationship_field(relationships[key])

    schema_name = name or _default_name(model, kind, include, exclude, sorted(fields))
    config = ConfigDict(from_attributes=True, title=schema_name)
    created: type[BaseModel] = create_model(
        schema_name, __config__=config, __module__=model.__module__, **fields
    )
    created.__qualname__ = schema_name
    created.__doc__ = _describe(model, kind)
    return created


def _check_names(model: type[Model], kind: str, known: set[str], names: Iterable[str]) -> None:
    for field_name in names:
        if field_name not in known:
            raise ImproperlyConfigured(
                f"{model.__name__}.schema({kind!r}): no field {field_name!r}; "
                f"fields: {', '.join(sorted(known))}."
            )


def _columns(mapper: Mapper[Any]) -> dict[str, Column[Any]]:
    """The attributes mapped to one table column each, by attribute name (an attribute
    mapped to an SQL expression has no column to derive a field from)."""
    columns: dict[str, Column[Any]] = {}
    for prop in mapper.column_attrs:
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            column = prop.columns[0]
            if isinstance(column, Column):
                columns[prop.key] = column
    return columns


def _column_fields(
    columns: dict[str, Column[Any]],
    kind: str,
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, column in columns.items():
        explicitly = include is not None and key in include
        if key in exclude or (include is not None and not explicitly):
            continue
        if _wanted(column, kind, explicitly=explicitly):
            fields[key] = _field(column, kind)
    return fields


def _wanted(column: Column[Any], kind: str, *, explicitly: bool) -> bool:
    if kind == "read":
        return not column.info.get("private", False)
    if column.info.get("read_only", False):
        return False
    if column.primary_key:
        if kind != "create":
            return False
        generated = (
            column is column.table.autoincrement_column
            or column.default is not None
            or column.server_default is not None
        )
        return explicitly or not generated
    return True


def _field(column: Column[Any], kind: str) -> Any:
    annotation = python_type(column)
    if column.nullable:
        annotation = Optional[annotation]  # noqa: UP045 (built at runtime from a variable)
    description = column.doc or column.comment
    extra: dict[str, Any] = {"description": description} if description else {}
    if kind == "read":
        return (annotation, Field(**extra))
    if kind == "patch":
        return (annotation, Field(None, json_schema_extra=_no_default, **extra))
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        value = default.arg  # type: ignore[attr-defined]
        return (annotation, Field(value, **extra))
    if default is not None or column.server_default is not None or column.nullable:
        # Optional; when left out, the column's own default (or NULL) applies.
        return (annotation, Field(None, json_schema_extra=_no_default, **extra))
    return (annotation, Field(**extra))


def _no_default(schema: dict[str, Any]) -> None:
    # A left-out field is not set at all: documenting ``"default": null`` would be wrong.
    schema.pop("default", None)


def python_type(column: Column[Any]) -> Any:
    """The pydantic type of ``column``'s values, with the constraints its type declares."""
    column_type = column.type
    if isinstance(column_type, sa_types.TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, sa_types.Enum):
        if column_type.enum_class is not None:
            return column_type.enum_class
        return Literal[tuple(column_type.enums)]
    if isinstance(column_type, sa_types.Boolean):
        return bool
    for klass, bound in _INTEGER_RANGES:
        if isinstance(column_type, klass):
            return Annotated[int, Field(ge=-bound, le=bound - 1)]
    if isinstance(column_type, sa_types.Numeric):
        return _numeric_type(column_type)
    if isinstance(column_type, sa_types.String):
        if column_type.length:
            return Annotated[str, Field(max_length=column_type.length)]
        return str
    if isinstance(column_type, sa_types.JSON):
        return Any
    try:
        return column_type.python_type
    except NotImplementedError:
        return Any


def _numeric_type(column_type: sa_types.Numeric[Any]) -> Any:
    if isinstance(column_type, sa_types.Float) or not column_type.asdecimal:
        return float
    constraints: dict[str, int] = {}
    if column_type.precision is not None:
        constraints["max_digits"] = column_type.precision
    if column_type.scale is not None:
        constraints["decimal_places"] = column_type.scale
    return Annotated[Decimal, Field(**constraints)] if constraints else Decimal  # type: ignore[call-overload]


def _relationship_field(rel: RelationshipProperty[Any]) -> Any:
    target = rel.mapper.class_
    nested = target.schema("read")
    if rel.uselist:
        return (list[nested], Field(default_factory=list))  # type: ignore[valid-type]
    return (Optional[nested], Field(None))  # noqa: UP045


def _default_name(
    model: type[Model],
    kind: str,
    include: tuple[str, ...] | None,
    exclude: tuple[str, ...],
    fields: list[str],
) -> str:
    base = f"{model.__name__}{kind.capitalize()}"
    if include is None and not exclude:
        return base
    # Stable across runs and processes: derived from the field names, not from id().
    digest = hashlib.sha1(",".join(fields).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{base}_{digest}"


def _describe(model: type[Model], kind: str) -> str:
    what = {
        "read": "as returned by the API",
        "create": "the fields to create one",
        "update": "the fields to replace one",
        "patch": "the fields to change (only the ones sent are applied)",
    }[kind]
    return f"{model.__name__}: {what}."
