"""Read a handler's or dependency's signature once, at startup, into a description.

The description (a :class:`Dependant`) says where every parameter comes from. It is
turned into fast extractors by :mod:`nightowl._extract` and resolved per request by
:mod:`nightowl._solve`; nothing here runs per request.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import typing_extensions

from nightowl.background import BackgroundTasks
from nightowl.datastructures import UploadFile
from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Body, Depends, File, Form, Param, Path, Query
from nightowl.requests import HTTPConnection
from nightowl.responses import Response
from nightowl.types import MISSING

__all__ = [
    "Dependant",
    "Field",
    "analyse",
    "body_fields",
    "callable_name",
    "is_body_type",
    "is_form_field",
    "is_sequence_annotation",
]


@dataclasses.dataclass(slots=True)
class Field:
    """One parameter read from the request."""

    name: str  # the Python keyword argument
    key: str  # the name on the wire (lower-case for headers)
    source: str  # path, query, header, cookie, body, form, file
    annotation: Any
    marker: Param
    default: Any
    is_list: bool = False

    @property
    def required(self) -> bool:
        """True when the request must supply it."""
        return self.default is MISSING and self.marker.default_factory is None

    def default_value(self) -> Any:
        """The value used when the request leaves it out."""
        if self.marker.default_factory is not None:
            return self.marker.default_factory()
        return self.default


@dataclasses.dataclass(slots=True)
class Dependant:
    """What a callable needs from a request, and from other dependencies."""

    call: Callable[..., Any]
    fields: list[Field] = dataclasses.field(default_factory=list)
    dependencies: list[tuple[str | None, Dependant, bool]] = dataclasses.field(default_factory=list)
    specials: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    is_async: bool = False
    is_generator: bool = False
    is_async_generator: bool = False
    return_annotation: Any = None
    security: list[Any] = dataclasses.field(default_factory=list)

    def all_fields(self) -> list[Field]:
        """Fields of this callable and of everything it depends on, depth first, once each."""
        seen: dict[tuple[str, str], Field] = {}
        for _, sub, _ in self.dependencies:
            for field in sub.all_fields():
                seen.setdefault((field.source, field.key), field)
        for field in self.fields:
            seen[(field.source, field.key)] = field
        return list(seen.values())


def callable_name(call: Callable[..., Any]) -> str:
    """``module.qualname`` of ``call``, for error messages."""
    target = call.func if hasattr(call, "func") else call  # functools.partial
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"


def _unwrap_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def is_sequence_annotation(annotation: Any) -> bool:
    """True for ``list[int]``, ``set[str]``, ``tuple[int, ...]`` (and their Optionals)."""
    inner = _unwrap_optional(annotation)
    return get_origin(inner) in (list, set, frozenset, tuple, typing.Sequence) or inner in (
        list,
        set,
        tuple,
    )


def _is_pydantic_model(cls: type) -> bool:
    # A model class exists only once pydantic is imported: checking sys.modules spares
    # apps without models the cost of importing pydantic's model machinery.
    main = sys.modules.get("pydantic.main")
    return main is not None and issubclass(cls, main.BaseModel)


def is_body_type(annotation: Any) -> bool:
    """True for types read from a JSON body: models, dataclasses, TypedDicts, lists/dicts of them."""
    inner = _unwrap_optional(annotation)
    if get_origin(inner) is Annotated:
        inner = get_args(inner)[0]
    if inspect.isclass(inner):
        if _is_pydantic_model(inner) or dataclasses.is_dataclass(inner):
            return True
        return bool(typing_extensions.is_typeddict(inner))
    origin = get_origin(inner)
    if origin in (list, set, frozenset, tuple, dict, Mapping):
        args = get_args(inner)
        return bool(args) and is_body_type(args[-1])
    return False


def _is_upload(annotation: Any) -> bool:
    inner = _unwrap_optional(annotation)
    if get_origin(inner) in (list, tuple, set):
        args = get_args(inner)
        return bool(args) and _is_upload(args[0])
    return inspect.isclass(inner) and issubclass(inner, UploadFile)


def _special_kind(annotation: Any) -> str | None:
    if not inspect.isclass(annotation):
        return None
    from nightowl.websockets import WebSocket

    if issubclass(annotation, WebSocket):
        return "websocket"
    if issubclass(annotation, HTTPConnection):
        return "request"  # the request, or the WebSocket of a WebSocket route
    if issubclass(annotation, BackgroundTasks):
        return "background"
    if issubclass(annotation, Response):
        return "response"
    return None


def _split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return base, list(metadata)
    return annotation, []


def analyse(
    call: Callable[..., Any],
    *,
    path_params: Mapping[str, Any] = {},
    providers: Mapping[Any, Callable[..., Any]] = {},
    skip_first: bool = False,
) -> Dependant:
    """Describe what ``call`` needs.

    Args:
        call: the handler or dependency.
        path_params: names of the route's path parameters, with the converter's type.
        providers: types injected by annotation alone (``app.provide``).
        skip_first: ignore the first parameter (``self`` of a class-based view method).
    """
    target = call
    if inspect.isclass(call):
        target = call.__init__
        skip_first = True
    elif not inspect.isroutine(call) and not isinstance(call, functools.partial):
        # A callable instance (``Depends(APIKeyHeader("X-Key"))``): read its bound __call__,
        # not the class's attribute annotations.
        target = getattr(call, "__call__")  # noqa: B004, B009
    try:
        signature = inspect.signature(target)
        hints = get_type_hints(target, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"Cannot read the signature of {callable_name(call)}: {exc}"
        ) from exc

    unwrapped = inspect.unwrap(call) if not inspect.isclass(call) else call
    dependant = Dependant(
        call=call,
        is_async=_is_coroutine(call),
        is_generator=inspect.isgeneratorfunction(unwrapped),
        is_async_generator=inspect.isasyncgenfunction(unwrapped),
        return_annotation=hints.get("return", inspect.Signature.empty),
    )
    parameters = list(signature.parameters.values())
    if skip_first and parameters:
        parameters = parameters[1:]
    for parameter in parameters:
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise ImproperlyConfigured(
                f"{callable_name(call)}: positional-only parameter {parameter.name!r} cannot be injected."
            )
        annotation = hints.get(parameter.name, Any)
        if parameter.name not in hints and type(parameter.default) in (int, float, bool):
            annotation = type(parameter.default)  # Flask-style ``def page(n=1)`` is an int
        _add_parameter(dependant, parameter, annotation, path_params, providers)
    return dependant


def _is_coroutine(call: Callable[..., Any]) -> bool:
    from nightowl._concurrency import is_async_callable

    return is_async_callable(call)


def _add_parameter(
    dependant: Dependant,
    parameter: inspect.Parameter,
    annotation: Any,
    path_params: Mapping[str, Any],
    providers: Mapping[Any, Callable[..., Any]],
) -> None:
    name = parameter.name
    where = f"{callable_name(dependant.call)}, parameter {name!r}"
    base, metadata = _split_annotated(annotation)
    default = parameter.default if parameter.default is not inspect.Parameter.empty else MISSING

    markers = [m for m in metadata if isinstance(m, (Param, Depends))]
    if isinstance(default, (Param, Depends)):
        markers.append(default)
        default = MISSING
    if len(markers) > 1:
        raise ImproperlyConfigured(f"{where}: more than one of Query/Header/Body/Depends... given.")
    marker = markers[0] if markers else None
    # Other Annotated metadata (pydantic constraints such as Field(gt=0)) stays on the type.
    extra_metadata = [m for m in metadata if m is not marker]
    field_type = Annotated[(base, *extra_metadata)] if extra_metadata else base

    if isinstance(marker, Depends):
        dependency = marker.dependency
        if dependency is None:
            dependency = providers.get(base, base)
        if not callable(dependency):
            raise ImproperlyConfigured(f"{where}: Depends() needs a callable.")
        sub = analyse(dependency, path_params=path_params, providers=providers)
        dependant.dependencies.append((name, sub, marker.use_cache))
        return

    if marker is None:
        special = _special_kind(base)
        if special is not None:
            dependant.specials.append((name, special))
            return
        provider = _find_provider(base, providers)
        if provider is not None:
            sub = analyse(provider, path_params=path_params, providers=providers)
            dependant.dependencies.append((name, sub, True))
            return
        if name in path_params:
            marker = Path()
        elif _is_upload(base):
            marker = File()
        elif is_body_type(base):
            marker = Body()
        else:
            marker = Query()

    if marker.default is not MISSING:
        if default is not MISSING:
            raise ImproperlyConfigured(
                f"{where}: give the default either in the marker or after '=', not both."
            )
        default = marker.default

    source = marker.source
    if source == "path":
        if name not in path_params and (marker.alias or name) not in path_params:
            raise ImproperlyConfigured(
                f"{where}: no {{{marker.alias or name}}} in the route's path."
            )
        if annotation is Any and path_params.get(name) is not None:
            field_type = path_params[name]

    key = marker.alias or name
    if source == "header" and marker.alias is None and getattr(marker, "convert_underscores", True):
        key = name.replace("_", "-")
    if source == "header":
        key = key.lower()
    dependant.fields.append(
        Field(
            name=name,
            key=key,
            source=source,
            annotation=field_type,
            marker=marker,
            default=default,
            is_list=is_sequence_annotation(base) and source in ("query", "header", "form", "file"),
        )
    )


def _find_provider(
    annotation: Any, providers: Mapping[Any, Callable[..., Any]]
) -> Callable[..., Any] | None:
    if not providers:
        return None
    try:
        provider = providers.get(annotation)
    except TypeError:  # unhashable annotation
        return None
    if provider is not None or not inspect.isclass(annotation):
        return provider
    for klass in annotation.__mro__[1:]:
        if klass in providers:
            return providers[klass]
    return None


def body_fields(dependant: Dependant) -> list[Field]:
    """Every body, form and file field, this callable's and its dependencies'."""
    return [f for f in dependant.all_fields() if f.source in ("body", "form", "file")]


def is_form_field(field: Field) -> bool:
    """True for fields read from a form rather than JSON."""
    return isinstance(field.marker, (Form, File)) or field.source in ("form", "file")
