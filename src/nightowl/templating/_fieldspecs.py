"""Which input each field of a pydantic model becomes in an HTML form: a
:class:`FieldSpec` per field, worked out once per model from the field's annotation,
name and constraints (see :mod:`nightowl.templating.forms` for the rules)."""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
import pydantic

from nightowl.datastructures import UploadFile

__all__ = ["FieldSpec", "display", "field_specs"]

_SEQUENCES = (list, set, frozenset, tuple)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one model field appears in a form; computed once per model by :func:`field_specs`.

    Attributes:
        name: the model's field name (how ``form.errors`` and ``form.values`` are keyed).
        key: the form field's ``name=`` (the alias if the field has one).
        label: the ``<label>`` text: the field's ``title``, or its name made readable.
        widget: ``"input"``, ``"select"``, ``"textarea"`` or ``"checkbox"``.
        input_type: the ``<input type=...>`` (``text``, ``email``, ``number``, ``date``...).
        required: the field has no default (a checkbox is required only as ``Literal[True]``).
        multiple: the field holds a list (a ``<select multiple>``).
        choices: ``(value, label)`` pairs of a select.
        attrs: further attributes (``maxlength``, ``min``, ``step``...).
        help: the field's ``description``, shown under it.
        nullable: the field takes ``None`` (a select offers an empty choice).
    """

    name: str
    key: str
    label: str
    widget: str
    input_type: str
    required: bool
    multiple: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    attrs: Mapping[str, str] = field(default_factory=dict)
    help: str | None = None
    nullable: bool = False


@functools.cache
def field_specs(model: type[pydantic.BaseModel]) -> tuple[FieldSpec, ...]:
    """The :class:`FieldSpec` of each field of ``model``, in declaration order (cached)."""
    return tuple(_spec(name, info) for name, info in model.model_fields.items())


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(annotation without None, whether None was allowed)``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _spec(name: str, info: pydantic.fields.FieldInfo) -> FieldSpec:
    annotation, nullable = _unwrap(info.annotation)
    annotation, multiple = _item_type(annotation)
    widget, input_type = _widget(annotation, name.lower())
    choices = _choices(annotation) if widget == "select" else ()
    attrs = _attrs(annotation, input_type, info.metadata)
    widget, input_type = _chosen_widget(info.json_schema_extra, widget, input_type)
    return FieldSpec(
        name=name,
        key=info.alias or name,
        label=info.title or _label(name),
        widget=widget,
        input_type=input_type,
        # An unticked checkbox sends nothing, so a plain bool is never required.
        required=info.is_required() and annotation is not bool,
        # Only a <select> sends several values under one name.
        multiple=multiple and widget == "select",
        choices=choices,
        attrs=attrs,
        help=info.description,
        nullable=nullable,
    )


def _item_type(annotation: Any) -> tuple[Any, bool]:
    """``(the type of one value, whether the field holds a list of them)``."""
    if get_origin(annotation) in _SEQUENCES or annotation in _SEQUENCES:
        args = get_args(annotation)
        return (args[0] if args else str), True
    return annotation, False


def _is_subclass(annotation: Any, classes: type | tuple[type, ...]) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, classes)


def _widget(annotation: Any, name: str) -> tuple[str, str]:
    """``(widget, input type)`` from the annotation, and from the (lowercased) field name
    for the text inputs that a name gives away (``password``, ``email``, ``phone``)."""
    origin = get_origin(annotation)
    if annotation is bool or (origin is Literal and get_args(annotation) == (True,)):
        return "checkbox", "checkbox"
    if origin is Literal or _is_subclass(annotation, enum.Enum):
        return "select", "select"
    return "input", _input_type(annotation, name)


def _input_type(annotation: Any, name: str) -> str:
    # In this order: a field named ``password_count: int`` is a number, not a password.
    if _is_subclass(annotation, (int, float, decimal.Decimal)):
        return "number"
    if annotation is datetime.datetime:
        return "datetime-local"
    if annotation is datetime.date:
        return "date"
    if annotation is datetime.time:
        return "time"
    if annotation is pydantic.SecretStr or "password" in name:
        return "password"
    if _is_subclass(annotation, UploadFile):
        return "file"
    if _is_subclass(annotation, pydantic.AnyUrl):
        return "url"
    if annotation is pydantic.EmailStr or "email" in name:
        return "email"
    if name in ("phone", "tel", "telephone") or name.endswith("_phone"):
        return "tel"
    return "text"


def _choices(annotation: Any) -> tuple[tuple[str, str], ...]:
    """The ``(value, label)`` options of a ``Literal`` or an ``Enum``."""
    if get_origin(annotation) is Literal:
        return tuple((display(v), _label(str(v))) for v in get_args(annotation))
    return tuple(
        (display(m.value), getattr(m, "label", None) or _label(str(m.value))) for m in annotation
    )


def _attrs(annotation: Any, input_type: str, metadata: list[Any]) -> dict[str, str]:
    """The attributes that carry the field's constraints to the browser."""
    if input_type == "number":
        return _number_attrs(annotation, metadata)
    if input_type in ("checkbox", "select", "file"):
        return {}
    return _length_attrs(metadata)


def _number_attrs(annotation: type, metadata: list[Any]) -> dict[str, str]:
    # ``min``/``max`` are inclusive: an exclusive bound becomes one only for integers.
    is_int = issubclass(annotation, int)
    attrs = {} if is_int else {"step": "any"}
    for meta in metadata:
        if isinstance(meta, annotated_types.Ge):
            attrs["min"] = str(meta.ge)
        elif isinstance(meta, annotated_types.Gt) and is_int:
            attrs["min"] = str(int(meta.gt) + 1)  # type: ignore[call-overload]
        elif isinstance(meta, annotated_types.Le):
            attrs["max"] = str(meta.le)
        elif isinstance(meta, annotated_types.Lt) and is_int:
            attrs["max"] = str(int(meta.lt) - 1)  # type: ignore[call-overload]
    return attrs


def _length_attrs(metadata: list[Any]) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for meta in metadata:
        if isinstance(meta, annotated_types.MaxLen):
            attrs["maxlength"] = str(meta.max_length)
        elif isinstance(meta, annotated_types.MinLen):
            attrs["minlength"] = str(meta.min_length)
    return attrs


def _chosen_widget(extra: Any, widget: str, input_type: str) -> tuple[str, str]:
    """``(widget, input type)`` after ``Field(json_schema_extra={"widget": ...})``: a
    textarea for any field, another input type for a plain input."""
    chosen = extra.get("widget") if isinstance(extra, dict) else None
    if chosen == "textarea":
        return "textarea", input_type
    if isinstance(chosen, str) and widget == "input":
        return widget, chosen
    return widget, input_type


def _label(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def display(value: Any) -> str:
    """A value as the text of an input."""
    if value is None or isinstance(value, (bool, pydantic.SecretStr, UploadFile)):
        return ""
    if isinstance(value, enum.Enum):
        return display(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)
