"""JSON Schemas for the OpenAPI document: every type the routes use, generated in one pass.

Types are registered while the operations are being built, each with the mode it is used
in (``validation`` for what the API reads, ``serialization`` for what it writes), and
stand in the document as :class:`SchemaSlot` placeholders. :meth:`SchemaRegistry.resolve`
then asks pydantic for all schemas at once, so that every model becomes one entry of
``components/schemas`` with a collision-free name (two ``User`` models from different
modules get module-qualified names; a model that reads and writes differently gets
``User-Input`` and ``User-Output``), and swaps the placeholders for the schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticSerializationError, core_schema, to_jsonable_python

from nightowl.exceptions import ImproperlyConfigured
from nightowl.problems import DEFAULT_FORMAT, ErrorFormat

__all__ = ["PROBLEM_SCHEMAS", "REF", "SchemaRegistry", "SchemaSlot", "jsonable"]

#: Where ``$ref`` points: OpenAPI keeps schemas under ``components/schemas``.
REF = "#/components/schemas/{model}"

Mode = Literal["validation", "serialization"]


#: The schemas of nightowl's default error format (RFC 9457 problems).
PROBLEM_SCHEMAS: Mapping[str, Any] = DEFAULT_FORMAT.schemas()[0]


class _Generator(GenerateJsonSchema):
    """pydantic's generator, giving ``{}`` (any value) for types it cannot describe
    rather than failing the whole document."""

    def handle_invalid_for_json_schema(
        self, schema: core_schema.CoreSchema, error_info: str
    ) -> JsonSchemaValue:
        return {}


class SchemaSlot:
    """A placeholder in the document for the schema of one registered type."""

    __slots__ = ("extra", "key")

    def __init__(self, key: int, extra: dict[str, Any] | None = None) -> None:
        self.key = key
        self.extra = extra or {}


class SchemaRegistry:
    """Collects the types an API uses, then generates all their schemas in one pass."""

    def __init__(
        self, error_format: ErrorFormat = DEFAULT_FORMAT, *, separate: bool = True
    ) -> None:
        #: The app's error format, whose schemas describe its error responses.
        self.error_format = error_format
        #: False: every type is described as it is read (one schema for a model both
        #: read and returned, ``App(separate_input_output_schemas=False)``).
        self.separate = separate
        self._inputs: list[tuple[int, Mode, TypeAdapter[Any]]] = []
        self._keys: dict[tuple[int, Mode], int] = {}
        self._keep: list[Any] = []  # keeps id()s in _keys valid

    def add(
        self,
        annotation: Any,
        mode: Mode,
        *,
        field: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SchemaSlot:
        """A placeholder for ``annotation``'s schema.

        Args:
            annotation: any type pydantic can describe.
            mode: ``validation`` (input) or ``serialization`` (output).
            field: ``pydantic.Field`` keyword arguments (constraints, examples...).
            extra: keywords added to the generated schema (``default``...).
        """
        if field:
            annotation = Annotated[annotation, pydantic.Field(**field)]
        if not self.separate:
            mode = "validation"
        ident = (id(annotation), mode)
        key = self._keys.get(ident)
        if key is None:
            try:
                adapter: TypeAdapter[Any] = TypeAdapter(annotation)
            except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError) as exc:
                raise ImproperlyConfigured(f"No JSON Schema for {annotation!r}: {exc}") from exc
            key = len(self._inputs)
            self._inputs.append((key, mode, adapter))
            self._keys[ident] = key
            self._keep.append(annotation)
        return SchemaSlot(key, extra)

    def resolve(self, document: Any) -> dict[str, Any]:
        """Replace every placeholder in ``document`` (in place); return the named schemas."""
        schemas, definitions = TypeAdapter.json_schemas(
            self._inputs, ref_template=REF, schema_generator=_Generator
        )
        by_key = {key: schema for (key, _), schema in schemas.items()}
        named: dict[str, Any] = dict(definitions.get("$defs", {}))
        error_schemas = self.error_format.schemas()[0]
        for name in error_schemas:
            if name in named:
                raise ImproperlyConfigured(
                    f"A model named {name!r} clashes with the error format's schemas; rename it."
                )
        named.update(error_schemas)
        _fill(document, by_key)
        return named


def _fill(node: Any, schemas: Mapping[int, Any]) -> None:
    items: Any = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, SchemaSlot):
            node[key] = {**schemas[value.key], **value.extra}
        elif isinstance(value, (dict, list)):
            _fill(value, schemas)


def jsonable(value: Any) -> tuple[bool, Any]:
    """``(True, value as JSON)`` when ``value`` can be written in JSON, else ``(False, None)``."""
    try:
        return True, to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError):
        return False, None
