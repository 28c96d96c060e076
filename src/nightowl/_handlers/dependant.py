"""The description of what a callable needs from a request: a :class:`Dependant`.

Plain data, made by :mod:`~nightowl._handlers.analysis` at startup and read by the
plan, the readers and the OpenAPI generator. Everything a request would otherwise
have to work out (the name on the wire, whether a value is required, its default) is
settled here, once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, NamedTuple

from nightowl.params import Param, Source

__all__ = ["Dependant", "Dependency", "Field", "Special", "SpecialKind", "callable_name"]


class Field:
    """One parameter read from the request (set once, at analysis, and only read after)."""

    # Plain classes with __slots__ here rather than dataclasses: a hello world need not
    # import dataclasses, and slot reads are the cheapest attribute reads per request.
    __slots__ = (
        "annotation",
        "default",
        "default_factory",
        "is_list",
        "is_model",
        "key",
        "marker",
        "name",
        "required",
        "source",
    )

    def __init__(
        self,
        *,
        name: str,
        key: str,
        source: Source,
        annotation: Any,
        marker: Param,
        default: Any,
        default_factory: Callable[[], Any] | None,
        required: bool,
        is_list: bool = False,
        is_model: bool = False,
    ) -> None:
        #: The Python keyword argument.
        self.name = name
        #: The name on the wire (lower-case for headers).
        self.key = key
        self.source = source
        #: The type the value is validated as (with any pydantic constraints of ``Annotated``).
        self.annotation = annotation
        #: The ``Query()``, ``Header()``... that declared it, explicit or implied.
        self.marker = marker
        #: The value used when the request leaves it out (``MISSING`` when there is none).
        self.default = default
        #: Makes a fresh default per request, instead of ``default``.
        self.default_factory = default_factory
        #: True when the request must supply it.
        self.required = required
        #: A ``list[...]`` read from every repeat of the key (query, header, form, file).
        self.is_list = is_list
        #: A pydantic model read field by field from the query, headers or cookies.
        self.is_model = is_model

    def __repr__(self) -> str:
        return f"<Field {self.name!r} from {self.source.value} {self.key!r}>"

    def default_value(self) -> Any:
        """The value used when the request leaves it out."""
        if self.default_factory is not None:
            return self.default_factory()
        return self.default


class SpecialKind(enum.Enum):
    """Values that come from the connection itself rather than from its data."""

    #: The ``Request`` (or, on a WebSocket route, the ``WebSocket``): ``HTTPConnection``.
    REQUEST = "request"
    WEBSOCKET = "websocket"
    #: The request's ``BackgroundTasks``, run after the response is sent.
    BACKGROUND = "background"
    #: A ``Response`` whose status, headers and cookies are copied onto the real one.
    RESPONSE = "response"
    #: The OAuth2 scopes required by the ``Security()`` uses above (``SecurityScopes``).
    SECURITY_SCOPES = "security_scopes"


class Special(NamedTuple):
    """A parameter filled from the connection (``request: Request``...)."""

    name: str
    kind: SpecialKind


class Dependency(NamedTuple):
    """A parameter (or a route-level dependency, ``name`` ``None``) filled by another callable."""

    name: str | None
    dependant: Dependant
    #: Run once per request and share the value (``Depends(use_cache=False)`` turns it off).
    use_cache: bool
    #: A generator's exit runs when the handler returns (``Depends(scope="function")``)
    #: rather than after the response.
    function_scope: bool = False
    #: OAuth2 scopes this use requires (``Security(f, scopes=[...])``).
    scopes: tuple[str, ...] = ()


class Dependant:
    """What a callable needs from a request, and from other dependencies."""

    __slots__ = (
        "call",
        "dependencies",
        "fields",
        "is_async",
        "is_async_generator",
        "is_generator",
        "return_annotation",
        "specials",
    )

    def __init__(
        self,
        call: Callable[..., Any],
        *,
        is_async: bool = False,
        is_generator: bool = False,
        is_async_generator: bool = False,
        return_annotation: Any = None,
    ) -> None:
        self.call = call
        self.fields: list[Field] = []
        self.dependencies: list[Dependency] = []
        self.specials: list[Special] = []
        self.is_async = is_async
        self.is_generator = is_generator
        self.is_async_generator = is_async_generator
        self.return_annotation = return_annotation

    def __repr__(self) -> str:
        return f"<Dependant of {callable_name(self.call)}>"

    def all_fields(self) -> list[Field]:
        """Fields of this callable and of everything it depends on, depth first, once each."""
        seen: dict[tuple[Source, str], Field] = {}
        for dependency in self.dependencies:
            for field in dependency.dependant.all_fields():
                seen.setdefault((field.source, field.key), field)
        for field in self.fields:
            seen[(field.source, field.key)] = field
        return list(seen.values())

    def body_fields(self) -> list[Field]:
        """Every body, form and file field, this callable's and its dependencies'."""
        return [field for field in self.all_fields() if field.source.in_body]


def callable_name(call: Callable[..., Any]) -> str:
    """``module.qualname`` of ``call``, for error messages."""
    target = call.func if hasattr(call, "func") else call  # functools.partial
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
