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

__all__ = ["is_param_model", "model_fields", "wire_name"]


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
