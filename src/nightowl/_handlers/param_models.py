"""Parameter models: a pydantic model read field by field from the query string, the
headers or the cookies (``filters: Annotated[Filters, Query()]``).

Each model field is one parameter on the wire (``limit``, ``x-tag``...); the model
validates them together, so its ``extra="forbid"`` rejects parameters it does not
declare. What each field's wire name is, and whether it collects repeats, is settled at
startup.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nightowl._handlers.annotations import strip_annotated, unwrap_optional
from nightowl.params import Source

if TYPE_CHECKING:
    from nightowl._handlers.dependant import Field

__all__ = ["is_param_model", "model_fields", "received_input", "shown_defaults", "wire_name"]


def is_param_model(annotation: Any) -> bool:
    """True for a pydantic model class (optional or not): read field by field."""
    import sys

    inner = strip_annotated(unwrap_optional(annotation))
    main = sys.modules.get("pydantic.main")
    return inspect.isclass(inner) and main is not None and issubclass(inner, main.BaseModel)


def wire_name(name: str, source: Source, convert_underscores: bool) -> str:
    """A model field's name in the request: headers in lower case, ``_`` read as ``-``."""
    if source is Source.HEADER:
        return (name.replace("_", "-") if convert_underscores else name).lower()
    return name


def model_fields(field: Field) -> Iterator[tuple[str, Any, Any]]:
    """``(wire name, pydantic FieldInfo, required)`` of each field of a parameter model,
    for the OpenAPI document."""
    model = strip_annotated(unwrap_optional(field.annotation))
    convert = getattr(field.marker, "convert_underscores", True)
    for name, info in model.model_fields.items():
        yield wire_name(info.alias or name, field.source, convert), info, info.is_required()


def shown_defaults(model: Any) -> dict[str, Any]:
    """The defaults an error's ``input`` shows for fields not received: those of the
    optional fields whose default is not ``None`` (``x_tag: list[str] = []``)."""
    return {
        info.alias or name: info.default
        for name, info in model.model_fields.items()
        if not info.is_required() and info.default_factory is None and info.default is not None
    }


def received_input(
    lookup: Any, wires: list[tuple[str, str, bool]], defaults: dict[str, Any]
) -> dict[str, Any]:
    """What a parameter model was given, as a validation error's ``input`` shows it:
    each field's value (or its default) under the field's name, then every other
    parameter received under its own name (one value, or the list of its repeats)."""
    import copy

    shown: dict[str, Any] = {}
    taken: set[str] = set()
    for wire, key, is_list in wires:
        value = lookup.getlist(wire) if is_list and hasattr(lookup, "getlist") else lookup.get(wire)
        if value is None or value == []:
            value = copy.deepcopy(defaults.get(key))
        if value is not None:
            shown[key] = value
        taken.update((wire, key))
    for name in dict.fromkeys(lookup):
        if name not in taken:
            repeats = lookup.getlist(name) if hasattr(lookup, "getlist") else [lookup.get(name)]
            shown[name] = repeats[0] if len(repeats) == 1 else repeats
    return shown
