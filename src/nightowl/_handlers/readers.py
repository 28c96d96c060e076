"""Readers: the fields of a :class:`~nightowl._handlers.dependant.Dependant`, read from
a request.

Every validator (a pydantic ``TypeAdapter`` or a plain converter) is built here, once,
at startup. Per request, a reader only looks values up and calls the validators it was
given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from nightowl._handlers.annotations import (
    is_bytes,
    is_sequence,
    strip_annotated,
    unwrap_optional,
)
from nightowl._handlers.dependant import Field
from nightowl._handlers.param_models import received_input, shown_defaults, wire_name
from nightowl._pydantic_ext import ValidationError, from_json
from nightowl.datastructures import FormData, UploadFile, parse_query_dict
from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.params import Body, Source
from nightowl.requests import Request
from nightowl.types import MISSING

if TYPE_CHECKING:
    import pydantic
    from pydantic import TypeAdapter

__all__ = [
    "BodyReader",
    "Errors",
    "ScalarReader",
    "body_of",
    "embedded_body_model",
    "error_entries",
]

#: Validation problems collected while reading a request, ``{"loc", "msg", "type"}`` each.
Errors = list[dict[str, Any]]


def error_entries(exc: ValidationError, prefix: tuple[Any, ...]) -> Errors:
    """pydantic errors as ``{"loc", "msg", "type", "input"[, "ctx"]}`` dicts with ``prefix``
    before each ``loc`` (the default error format shows only the first three)."""
    entries: Errors = []
    for error in exc.errors(include_url=False):
        entry = {
            "loc": [*prefix, *error["loc"]],
            "msg": error["msg"],
            "type": error["type"],
            "input": error.get("input"),
        }
        if "ctx" in error:
            entry["ctx"] = error["ctx"]
        entries.append(entry)
    return entries


def body_of(request: Request | None) -> Any:
    """The JSON body a request's handler read, for ``RequestValidationError.body``
    (``None`` when it read none, or another kind)."""
    raw = getattr(request, "_body", None)
    if not raw or request is None or "json" not in (request.content_type or ""):
        return None
    try:
        return from_json(raw)
    except ValueError:
        return None


def _missing(source: str, key: str) -> dict[str, Any]:
    return {"loc": [source, key], "msg": "Field required", "type": "missing", "input": None}


def _adapter(
    annotation: Any, constraints: dict[str, Any], name: str | None = None
) -> TypeAdapter[Any]:
    # pydantic is imported by the first handler that needs a validator, not by ``import nightowl``.
    import pydantic
    from pydantic import TypeAdapter

    plain = annotation
    if constraints:
        annotation = Annotated[annotation, pydantic.Field(**constraints)]
    try:
        return TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError:
        raise ImproperlyConfigured(_unreadable(plain, name)) from None
    except pydantic.PydanticUserError as exc:
        raise ImproperlyConfigured(f"Cannot validate values of type {annotation!r}: {exc}") from exc


def _unreadable(annotation: Any, name: str | None) -> str:
    """What to do about a parameter whose type nothing reads from a request or injects."""
    shown = getattr(annotation, "__name__", None) or repr(annotation)
    what = f"The parameter '{name}: {shown}'" if name else f"A parameter of type {shown}"
    if str(getattr(annotation, "__module__", "")).startswith("nightowl.sessions"):
        return (
            f"{what} needs sessions, which are off: turn them on with App(sessions=True), "
            "or give the app a SECRET_KEY (App(secret_key=...), the environment or .env)."
        )
    if str(getattr(annotation, "__module__", "")).startswith(("nightowl.db", "sqlalchemy")):
        return (
            f"{what} needs the database, which is off: give the app one with "
            'App(database="sqlite:///app.db") (or App(database=True) to read DATABASE_URL).'
        )
    return (
        f"{what} is neither read from the request nor injected. Make it a pydantic model, "
        "dataclass or TypedDict (the JSON body) or a str, int, float, bool... (a query "
        f"parameter), or inject it: app.provide({shown}, factory) for every handler, or "
        f"Annotated[{shown}, Depends(factory)] for this one."
    )


def _converter(field: Field) -> Callable[[Any], Any]:
    """A function raw value -> validated value, raising ``ValidationError``."""
    annotation = field.annotation
    constraints = field.marker.constraints
    if not constraints and not field.is_list:
        if annotation is str or annotation is Any:
            return _identity
        if annotation is int:
            validate_int = _adapter(int, {}).validate_python

            def convert_int(raw: str) -> Any:
                # The common case, a plain decimal, skips pydantic; anything else gets its errors.
                if raw.isdigit() and raw.isascii() and len(raw) < 19:
                    return int(raw)
                return validate_int(raw)

            return convert_int
    return _adapter(annotation, constraints, field.name).validate_python


def _identity(value: Any) -> Any:
    return value


#: One path, query, header or cookie field: ``(name, key, is_list, field, validator)``. A
#: plain tuple, not a named one: the loop that reads a request unpacks it, and unpacking a
#: tuple subclass goes through an iterator.
_Scalar = tuple[str, str, bool, Field, Callable[[Any], Any]]


class ScalarReader:
    """Reads path, query, header and cookie fields of one callable.

    Fields are grouped by source at startup so each source is looked at once per
    request: the query string is parsed into a plain dict unless a field wants a list.
    """

    __slots__ = ("cookie", "header", "models", "path", "query", "query_lists")

    def __init__(self, fields: list[Field]) -> None:
        def entries(source: Source) -> list[_Scalar]:
            return [
                (f.name, f.key, f.is_list, f, _converter(f))
                for f in fields
                if f.source is source and not f.is_model
            ]

        self.path = entries(Source.PATH)
        self.query = entries(Source.QUERY)
        self.header = entries(Source.HEADER)
        self.cookie = entries(Source.COOKIE)
        self.query_lists = any(f.is_list for f in fields if f.source is Source.QUERY)
        #: Parameter models (``Annotated[Filters, Query()]``), read after the plain fields.
        self.models = [_ModelReader(f) for f in fields if f.is_model]

    def __bool__(self) -> bool:
        return bool(self.path or self.query or self.header or self.cookie or self.models)

    def read(self, request: Request, values: dict[str, Any], errors: Errors) -> None:
        """Put validated values into ``values``; append problems to ``errors``."""
        if self.models:
            for reader in self.models:
                reader.read(_lookup(request, reader.field.source), values, errors)
        if self.path:
            _read_source(self.path, "path", request.path_params, values, errors)
        if self.query:
            if self.query_lists:
                query: Any = request.query_params
            else:
                query = parse_query_dict(request.scope.get("query_string", b""))
            _read_source(self.query, "query", query, values, errors)
        if self.header:
            _read_source(self.header, "header", request.headers, values, errors)
        if self.cookie:
            _read_source(self.cookie, "cookie", request.cookies, values, errors)


def _lookup(request: Request, source: Source) -> Any:
    if source is Source.QUERY:
        return request.query_params
    if source is Source.HEADER:
        return request.headers
    return request.cookies


def _read_source(
    entries: list[_Scalar],
    source: str,
    lookup: Any,
    values: dict[str, Any],
    errors: Errors,
) -> None:
    for name, key, is_list, field, convert in entries:
        if is_list:
            raw: Any = lookup.getlist(key)
            if source == "header":
                raw = [v.strip() for item in raw for v in item.split(",")]
            if not raw:
                raw = MISSING
        else:
            raw = lookup.get(key, MISSING)
        if raw is MISSING:
            if field.required:
                errors.append(_missing(source, key))
            else:
                values[name] = field.default_value()
            continue
        try:
            values[name] = convert(raw)
        except ValidationError as exc:
            errors.extend(error_entries(exc, (source, key)))


class _ModelReader:
    """Reads one parameter model from its source and validates it."""

    __slots__ = ("defaults", "extras", "field", "header", "prefix", "validate", "wires")

    def __init__(self, field: Field) -> None:
        from pydantic import TypeAdapter

        model: type[pydantic.BaseModel] = strip_annotated(unwrap_optional(field.annotation))
        convert = getattr(field.marker, "convert_underscores", True)
        self.field = field
        self.header = field.source is Source.HEADER
        self.prefix = (field.source.value,)
        self.wires: list[_Wire] = [
            (
                wire_name(info.alias or name, field.source, convert),
                info.alias or name,
                is_sequence(info.annotation),
            )
            for name, info in model.model_fields.items()
        ]
        self.defaults = shown_defaults(model)
        # Undeclared parameters only matter to a model that forbids (or keeps) extras.
        self.extras = model.model_config.get("extra") in ("forbid", "allow")
        self.validate: Callable[[Any], Any] = TypeAdapter(field.annotation).validate_python

    def read(self, lookup: Any, values: dict[str, Any], errors: list[dict[str, Any]]) -> None:
        """Put the validated model into ``values``; append problems to ``errors``."""
        data: dict[str, Any] = {}
        for wire, key, is_list in self.wires:
            if is_list:
                found = lookup.getlist(wire) if hasattr(lookup, "getlist") else []
                if found:
                    data[key] = found
            else:
                value = lookup.get(wire)
                if value is not None:
                    data[key] = value
        if self.extras:
            declared = {wire for wire, _, _ in self.wires}
            for wire in lookup:
                if wire not in declared:
                    data[wire.replace("-", "_") if self.header else wire] = lookup.get(wire)
        try:
            values[self.field.name] = self.validate(data)
        except ValidationError as exc:
            entries = error_entries(exc, self.prefix)
            # An error about the whole model (a field missing) shows what was received.
            shown = None
            for entry in entries:
                if entry["input"] == data:
                    shown = shown or received_input(lookup, self.wires, self.defaults)
                    entry["input"] = shown
            errors.extend(entries)


#: A model's fields on the wire: ``(wire name, key in the model's input, is a list)``.
_Wire = tuple[str, str, bool]


class BodyReader:
    """Reads the JSON body or the form of a request for every body field in a plan."""

    __slots__ = (
        "fields",
        "form",
        "media_type",
        "read",
        "required",
        "single",
        "strict_content_type",
        "validate_json",
        "validator",
    )

    def __init__(self, fields: list[Field], name: str) -> None:
        self.fields = fields
        form_fields = [f for f in fields if f.source.in_form]
        if form_fields and len(form_fields) != len(fields):
            raise ImproperlyConfigured(
                f"{name}: a handler cannot take both a JSON body and form fields."
            )
        self.form = bool(form_fields)
        self.required = any(f.required for f in fields)
        #: Refuse a JSON body sent with no ``Content-Type`` (``App(strict_content_type=True)``).
        self.strict_content_type = False
        self.media_type = fields[0].marker.media_type if isinstance(fields[0].marker, Body) else ""
        self.single: Field | None = None
        self.read: Callable[[Request, dict[str, Any], Errors], Awaitable[None]]
        if self.form:
            self.validator: Any = [(f, _form_converter(f)) for f in fields]
            self.read = self._read_form
            return
        embed = len(fields) > 1 or getattr(fields[0].marker, "embed", False)
        if not embed:
            field = self.single = fields[0]
            self.validator = _adapter(field.annotation, field.marker.constraints, field.name)
        else:
            model_name = "Body_" + name.replace(".", "_").replace("<", "").replace(">", "")
            from pydantic import TypeAdapter

            self.validator = TypeAdapter(embedded_body_model(fields, model_name))
        # The core validator, without TypeAdapter's per-call Python wrapper.
        self.validate_json = self.validator.validator.validate_json
        self.read = self._read_json

    async def _read_json(self, request: Request, values: dict[str, Any], errors: Errors) -> None:
        for key, value in request.scope["headers"]:
            if key == b"content-type":
                if value != b"application/json":
                    _check_json_media_type(request.content_type)
                break
        else:
            if self.strict_content_type:
                await _refuse_untyped_body(request)
        body = await request.body()
        if not body:
            if self.single is not None and not self.single.required:
                values[self.single.name] = self.single.default_value()
            elif self.single is None and not self.required:
                for field in self.fields:
                    values[field.name] = field.default_value()
            elif self.single is not None:
                errors.append(
                    {"loc": ["body"], "msg": "Field required", "type": "missing", "input": None}
                )
            else:
                for field in self.fields:
                    if field.required:
                        errors.append(_missing("body", field.key))
                    else:
                        values[field.name] = field.default_value()
            return
        try:
            parsed = self.validate_json(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            if first["type"] == "json_invalid":
                raise HTTPException(
                    400, "Malformed JSON body: " + str(first["ctx"].get("error", first["msg"]))
                ) from None
            entries = error_entries(exc, ("body",))
            errors.extend(entries if self.single is not None else self._each_part(entries))
            return
        if self.single is not None:
            values[self.single.name] = parsed
        else:
            for field in self.fields:
                values[field.name] = getattr(parsed, field.name)

    def _each_part(self, entries: Errors) -> Errors:
        """Errors of a body made of several parameters, each read from its own key: a body
        that is no object misses every part, and a missing part was given nothing."""
        if any(e["type"] == "model_type" and e["loc"] == ["body"] for e in entries):
            return [_missing("body", f.key) for f in self.fields if f.required]
        for entry in entries:
            if entry["type"] == "missing" and len(entry["loc"]) == 2:
                entry["input"] = None
        return entries

    async def _read_form(self, request: Request, values: dict[str, Any], errors: Errors) -> None:
        if not request.content_type and not await request.body():
            # Nothing sent at all (a POST with no body): the defaults, or a 422 naming the
            # required fields, rather than a 415 about a content type nobody chose.
            form = FormData()
        else:
            form = await request.form()
        for _, convert in self.validator:
            convert(form, values, errors)


def embedded_body_model(fields: list[Field], model_name: str) -> type[pydantic.BaseModel]:
    """The model of a body whose fields are read from keys of the same name (embedded)."""
    import pydantic

    definitions: dict[str, Any] = {}
    for field in fields:
        kwargs = field.marker.field_kwargs()
        if field.marker.alias:
            kwargs["alias"] = field.marker.alias
        if not field.required:
            if field.marker.default_factory is not None:
                kwargs["default_factory"] = field.marker.default_factory
            else:
                kwargs["default"] = field.default
        definitions[field.name] = (field.annotation, pydantic.Field(**kwargs))
    model: type[pydantic.BaseModel] = pydantic.create_model(model_name, **definitions)
    return model


async def _refuse_untyped_body(request: Request) -> None:
    """``strict_content_type``: a 415 for a body sent with no ``Content-Type``."""
    if await request.body():
        raise HTTPException(415, "Expected a JSON body (application/json), got no Content-Type.")


def _check_json_media_type(content_type: str) -> None:
    """A 415 unless the media type is JSON (``application/json`` or ``application/*+json``)."""
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise HTTPException(415, f"Expected a JSON body (application/json), got {content_type!r}.")


def _form_converter(field: Field) -> Callable[[FormData, dict[str, Any], Errors], None]:
    """Build a reader for one form field: a scalar, a file, or a whole model from the form."""
    import pydantic

    annotation = strip_annotated(unwrap_optional(field.annotation))
    model_fields = getattr(annotation, "model_fields", None)
    if (
        isinstance(annotation, type)
        and issubclass(annotation, pydantic.BaseModel)
        and model_fields is not None
    ):
        return _model_form_reader(field, annotation)
    adapter = _adapter(field.annotation, field.marker.constraints, field.name)
    wants_bytes = is_bytes(annotation)
    key, name, is_list = field.key, field.name, field.is_list

    def read(form: FormData, values: dict[str, Any], errors: Errors) -> None:
        raw: Any = form.getlist(key) if is_list else form.get(key, MISSING)
        if raw is MISSING or raw == []:
            if field.required:
                errors.append(_missing("body", key))
            else:
                values[name] = field.default_value()
            return
        if wants_bytes:
            raw = [_read_upload(v) for v in raw] if is_list else _read_upload(raw)
        try:
            values[name] = adapter.validate_python(raw)
        except ValidationError as exc:
            errors.extend(error_entries(exc, ("body", key)))

    return read


def _read_upload(value: Any) -> Any:
    if isinstance(value, UploadFile):
        value.file.seek(0)
        return value.file.read()
    return value


def _model_form_reader(
    field: Field, model: type[pydantic.BaseModel]
) -> Callable[[FormData, dict[str, Any], Errors], None]:
    lists = {
        (info.alias or key)
        for key, info in model.model_fields.items()
        if is_sequence(info.annotation)
    }
    bools = {
        (info.alias or key)
        for key, info in model.model_fields.items()
        if unwrap_optional(info.annotation) is bool
    }
    name = field.name

    def read(form: FormData, values: dict[str, Any], errors: Errors) -> None:
        data: dict[str, Any] = {}
        for key in form:
            data[key] = form.getlist(key) if key in lists else form[key]
        for key in bools:
            # An unticked HTML checkbox sends nothing at all.
            data.setdefault(key, False)
        try:
            values[name] = model.model_validate(data)
        except ValidationError as exc:
            errors.extend(error_entries(exc, ("body",)))

    return read
