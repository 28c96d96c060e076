"""Read a handler's or dependency's signature, once, at startup, into a :class:`Dependant`.

Every parameter is sorted into one of four kinds, in this order:

1. ``Depends(...)`` (or a type registered with ``app.provide``): another callable's value;
2. a connection value, by annotation: ``Request``, ``WebSocket``, ``BackgroundTasks``,
   ``Response``;
3. a marker (``Query()``, ``Header()``, ``Body()``...) in ``Annotated`` or as the default;
4. no marker: a path parameter by name, an upload, a JSON body type, else a query parameter.

Nothing here runs per request.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, NamedTuple, get_type_hints

from nightowl._handlers.annotations import is_body_type, is_sequence, is_upload, split_annotated
from nightowl._handlers.dependant import (
    Dependant,
    Dependency,
    Field,
    Special,
    SpecialKind,
    callable_name,
)
from nightowl._handlers.param_models import is_param_model
from nightowl.background import BackgroundTasks
from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Body, Depends, File, Param, Path, Query, SecurityScopes, Source
from nightowl.requests import HTTPConnection
from nightowl.responses import Response
from nightowl.routing import Route, WebSocketRoute
from nightowl.types import MISSING

__all__ = ["analyse", "route_dependant"]

Providers = Mapping[Any, Callable[..., Any]]
#: Sources a pydantic model parameter is read from field by field (a parameter model).
_MODEL_SOURCES = frozenset({Source.QUERY, Source.HEADER, Source.COOKIE})


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
    return _Analyser(path_params, providers).dependant(call, skip_first)


def route_dependant(route: Route | WebSocketRoute, providers: Providers) -> Dependant:
    """Analyse a route's handler, with its router-level dependencies in front."""
    websocket = isinstance(route, WebSocketRoute)
    analyser = _Analyser(route.template.param_types, providers, websocket=websocket)
    if isinstance(route, Route) and route.view_method is not None:
        method, call = _view_call(route.endpoint, route.view_method)  # type: ignore[arg-type]
        dependant = analyser.dependant(method, skip_first=True)
        dependant.call = call
    else:
        dependant = analyser.dependant(route.endpoint)
    extra = (
        route.options.get("dependencies", ()) if isinstance(route, Route) else route.dependencies
    )
    for marker in reversed(list(extra)):
        if marker.dependency is not None:
            sub = analyser.dependant(marker.dependency)
            dependant.dependencies.insert(0, _dependency(None, sub, marker))
    return dependant


def _dependency(name: str | None, sub: Dependant, marker: Depends) -> Dependency:
    return Dependency(
        name,
        sub,
        marker.use_cache,
        marker.scope == "function",
        tuple(getattr(marker, "scopes", ())),
    )


def _view_call(view: type, method_name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A function that makes a fresh view instance and calls its method, keeping sync/async."""
    method = getattr(view, method_name)
    if inspect.iscoroutinefunction(method):

        async def call_async(**kwargs: Any) -> Any:
            return await getattr(view(), method_name)(**kwargs)

        return method, call_async

    def call_sync(**kwargs: Any) -> Any:
        return getattr(view(), method_name)(**kwargs)

    return method, call_sync


class _Declared(NamedTuple):
    """A parameter as written: its type, the marker it names (if any) and its default."""

    base: Any  # the annotation without Annotated
    field_type: Any  # what values are validated as: base plus any pydantic metadata
    marker: Param | Depends | None
    default: Any


class _Analyser:
    """Analyses the callables of one route: its path parameters, the app's providers."""

    __slots__ = ("path_params", "providers", "websocket")

    def __init__(
        self, path_params: Mapping[str, Any], providers: Providers, websocket: bool = False
    ) -> None:
        self.path_params = path_params
        self.providers = providers
        #: A WebSocket route: ``AsyncIterator[T]`` parameters take its messages.
        self.websocket = websocket

    def dependant(self, call: Callable[..., Any], skip_first: bool = False) -> Dependant:
        """The :class:`Dependant` of ``call`` (see :func:`analyse`)."""
        signature, hints = _read_signature(call)
        unwrapped = call if inspect.isclass(call) else inspect.unwrap(call)
        dependant = Dependant(
            call=call,
            is_async=_is_coroutine(call),
            is_generator=inspect.isgeneratorfunction(unwrapped),
            is_async_generator=inspect.isasyncgenfunction(unwrapped),
            return_annotation=hints.get("return", inspect.Signature.empty),
        )
        skip_first = skip_first or inspect.isclass(call)  # a class: skip __init__'s self
        for parameter in _injected_parameters(call, signature, skip_first):
            self._add(dependant, parameter, _annotation_of(parameter, hints))
        return dependant

    def _add(self, dependant: Dependant, parameter: inspect.Parameter, annotation: Any) -> None:
        name = parameter.name
        where = f"{callable_name(dependant.call)}, parameter {name!r}"
        declared = _declare(parameter, annotation, where)
        marker = declared.marker
        if isinstance(marker, Depends):
            dependant.dependencies.append(self._depends(name, declared.base, marker, where))
            return
        if marker is None:
            injected = self._injected(name, declared.base)
            if isinstance(injected, Special):
                dependant.specials.append(injected)
                return
            if isinstance(injected, Dependency):
                dependant.dependencies.append(injected)
                return
            marker = injected
        dependant.fields.append(self._field(name, annotation, declared, marker, where))

    def _depends(self, name: str, base: Any, marker: Depends, where: str) -> Dependency:
        """``Depends(f)``; a bare ``Depends()`` means the annotated type's provider (or the type)."""
        dependency = marker.dependency
        if dependency is None:
            dependency = self.providers.get(base, base)
        if not callable(dependency):
            raise ImproperlyConfigured(f"{where}: Depends() needs a callable.")
        return _dependency(name, self.dependant(dependency), marker)

    def _injected(self, name: str, base: Any) -> Special | Dependency | Param:
        """What a parameter without a marker is: a connection value, a provided type, or a
        field whose source its name and type imply."""
        kind = _special_kind(base)
        if kind is not None:
            return Special(name, kind)
        provider = _find_provider(base, self.providers)
        if provider is not None:
            return Dependency(name, self.dependant(provider), True)
        if self.websocket:
            from nightowl.websockets import message_reader

            reader = message_reader(base)
            if reader is not None:
                return Dependency(name, self.dependant(reader), True)
        if name in self.path_params:
            return Path()
        if is_upload(base):
            return File()
        if is_body_type(base):
            return Body()
        return Query()

    def _field(
        self, name: str, annotation: Any, declared: _Declared, marker: Param, where: str
    ) -> Field:
        default = _merge_default(declared.default, marker, where)
        source = _source_of(marker, where)
        if self.websocket and source.in_body:
            raise ImproperlyConfigured(
                f"{where}: a WebSocket has no request body; to take its messages, "
                f"annotate the parameter AsyncIterator[{getattr(declared.base, '__name__', 'T')}]."
            )
        field_type = declared.field_type
        if source is Source.PATH:
            field_type = self._path_type(name, annotation, field_type, marker, where)
        is_model = source in _MODEL_SOURCES and is_param_model(declared.base)
        return Field(
            name=name,
            key=_wire_key(name, marker, source),
            source=source,
            annotation=field_type,
            marker=marker,
            default=default,
            default_factory=marker.default_factory,
            required=default is MISSING and marker.default_factory is None and not is_model,
            is_list=source.repeats and is_sequence(declared.base),
            is_model=is_model,
        )

    def _path_type(
        self, name: str, annotation: Any, field_type: Any, marker: Param, where: str
    ) -> Any:
        """The type of a path parameter: the converter's (``{id:int}``) when unannotated."""
        path_params = self.path_params
        if name not in path_params and (marker.alias or name) not in path_params:
            raise ImproperlyConfigured(
                f"{where}: no {{{marker.alias or name}}} in the route's path."
            )
        if annotation is Any and path_params.get(name) is not None:
            return path_params[name]
        return field_type


def _read_signature(call: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    target: Any = call
    if inspect.isclass(call):
        target = call.__init__
    elif not inspect.isroutine(call) and not isinstance(call, functools.partial):
        # A callable instance (``Depends(APIKeyHeader("X-Key"))``): read its bound __call__,
        # not the class's attribute annotations.
        target = getattr(call, "__call__")  # noqa: B004, B009
    try:
        return inspect.signature(target), get_type_hints(target, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"Cannot read the signature of {callable_name(call)}: {exc}"
        ) from exc


def _injected_parameters(
    call: Callable[..., Any], signature: inspect.Signature, skip_first: bool
) -> Iterator[inspect.Parameter]:
    """The parameters to fill: not ``*args``/``**kwargs``, never positional-only ones."""
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
        yield parameter


def _annotation_of(parameter: inspect.Parameter, hints: Mapping[str, Any]) -> Any:
    if parameter.name not in hints and type(parameter.default) in (int, float, bool):
        return type(parameter.default)  # Flask-style ``def page(n=1)`` is an int
    return hints.get(parameter.name, Any)


def _is_coroutine(call: Callable[..., Any]) -> bool:
    from nightowl._concurrency import is_async_callable

    return is_async_callable(call)


def _declare(parameter: inspect.Parameter, annotation: Any, where: str) -> _Declared:
    """Take ``Annotated[...]`` and the default apart: the one marker, the rest of the type."""
    base, metadata = split_annotated(annotation)
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
    return _Declared(base, field_type, marker, default)


def _merge_default(default: Any, marker: Param, where: str) -> Any:
    """The default, given after ``=`` or in the marker (``Query(10)``), but not in both."""
    if marker.default is MISSING:
        return default
    if default is not MISSING:
        raise ImproperlyConfigured(
            f"{where}: give the default either in the marker or after '=', not both."
        )
    return marker.default


def _source_of(marker: Param, where: str) -> Source:
    try:
        return Source(marker.source)
    except ValueError:
        known = ", ".join(source.value for source in Source)
        raise ImproperlyConfigured(
            f"{where}: {type(marker).__name__}.source is {marker.source!r}; use one of {known}."
        ) from None


def _wire_key(name: str, marker: Param, source: Source) -> str:
    """The name in the request: the alias, else the parameter's name; headers in lower case,
    with underscores read as hyphens (``x_api_key`` is ``x-api-key``)."""
    key = marker.alias or name
    if source is Source.HEADER:
        if marker.alias is None and getattr(marker, "convert_underscores", True):
            key = name.replace("_", "-")
        key = key.lower()
    return key


def _special_kind(annotation: Any) -> SpecialKind | None:
    if not inspect.isclass(annotation):
        return None
    # A WebSocket class exists only once its module is imported: an app without WebSocket
    # routes does not load it for this check.
    websockets = sys.modules.get("nightowl.websockets")
    if websockets is not None and issubclass(annotation, websockets.WebSocket):
        return SpecialKind.WEBSOCKET
    if issubclass(annotation, HTTPConnection):
        return SpecialKind.REQUEST  # the request, or the WebSocket of a WebSocket route
    if issubclass(annotation, BackgroundTasks):
        return SpecialKind.BACKGROUND
    if issubclass(annotation, Response):
        return SpecialKind.RESPONSE
    if issubclass(annotation, SecurityScopes):
        return SpecialKind.SECURITY_SCOPES
    return None


def _find_provider(annotation: Any, providers: Providers) -> Callable[..., Any] | None:
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
