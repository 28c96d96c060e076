"""Markers that say where a handler parameter comes from: ``Query``, ``Header``, ``Depends``...

Use them in ``Annotated`` (preferred) or as the default value::

    def search(q: Annotated[str, Query(min_length=2)], limit: int = Query(10, le=100)): ...
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from nightowl.types import MISSING

__all__ = [
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Header",
    "Param",
    "Path",
    "Query",
    "Security",
    "SecurityScopes",
    "Source",
]


class Source(enum.StrEnum):
    """Where in the request a parameter is read from; every marker carries one.

    The values are the names used on the wire: OpenAPI's ``in`` and the first item of a
    validation error's ``loc``. A ``str`` enum, so ``Source.QUERY == "query"``.
    """

    PATH = "path"
    QUERY = "query"
    HEADER = "header"
    COOKIE = "cookie"
    BODY = "body"
    FORM = "form"
    FILE = "file"

    @property
    def in_body(self) -> bool:
        """True for the sources read from the request body: JSON, form fields, files."""
        return self in _BODY_SOURCES

    @property
    def in_form(self) -> bool:
        """True for form fields and files (an urlencoded or multipart body)."""
        return self is Source.FORM or self is Source.FILE

    @property
    def repeats(self) -> bool:
        """True when a ``list[...]`` parameter collects every value given (``?tag=a&tag=b``)."""
        return self in _REPEATING_SOURCES


_BODY_SOURCES = frozenset({Source.BODY, Source.FORM, Source.FILE})
_REPEATING_SOURCES = frozenset({Source.QUERY, Source.HEADER, Source.FORM, Source.FILE})


_CONSTRAINTS = (
    "gt",
    "ge",
    "lt",
    "le",
    "multiple_of",
    "min_length",
    "max_length",
    "pattern",
    "max_digits",
    "decimal_places",
    "strict",
    "allow_inf_nan",
)


class Param:
    """Where a parameter comes from, plus its validation constraints and documentation.

    Args:
        default: the default value (or use the parameter's own default); ``...``
            (FastAPI's way of saying it) means required, as no default does.
        alias: the name on the wire when it differs from the Python name.
        title, description, examples, deprecated, include_in_schema: documentation.
        openapi_examples: named examples for the OpenAPI document (Swagger UI offers them
            in a list): ``{"normal": {"summary": "...", "value": ...}}``.
        gt, ge, lt, le, multiple_of, min_length, max_length, pattern, ...: validation,
            exactly as pydantic's ``Field`` takes them.
    """

    #: Where the value is read from.
    source: ClassVar[Source] = Source.QUERY
    __slots__ = (
        "alias",
        "constraints",
        "default",
        "default_factory",
        "deprecated",
        "description",
        "examples",
        "include_in_schema",
        "openapi_examples",
        "title",
    )

    def __init__(
        self,
        default: Any = MISSING,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: list[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        openapi_examples: dict[str, dict[str, Any]] | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        strict: bool | None = None,
        allow_inf_nan: bool | None = None,
    ) -> None:
        # Query(...) is how FastAPI code says "required": the same as giving no default.
        self.default = MISSING if default is ... else default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.examples = examples
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.openapi_examples = openapi_examples
        given = dict(
            gt=gt,
            ge=ge,
            lt=lt,
            le=le,
            multiple_of=multiple_of,
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            max_digits=max_digits,
            decimal_places=decimal_places,
            strict=strict,
            allow_inf_nan=allow_inf_nan,
        )
        self.constraints = {k: v for k, v in given.items() if v is not None}

    def field_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pydantic.Field`` describing this parameter."""
        kwargs: dict[str, Any] = dict(self.constraints)
        for name in ("title", "description", "examples", "deprecated"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.default!r})"


class Path(Param):
    """A parameter taken from the URL path (``/users/{user_id}``)."""

    source = Source.PATH
    __slots__ = ()


class Query(Param):
    """A parameter taken from the query string; a ``list[...]`` type collects repeats."""

    source = Source.QUERY
    __slots__ = ()


class Header(Param):
    """A parameter taken from a request header.

    ``x_api_key`` reads ``X-API-Key``: underscores become hyphens unless
    ``convert_underscores=False``; header names are case-insensitive.
    """

    source = Source.HEADER
    __slots__ = ("convert_underscores",)

    def __init__(
        self, default: Any = MISSING, *, convert_underscores: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    """A parameter taken from a cookie."""

    source = Source.COOKIE
    __slots__ = ()


class Body(Param):
    """A parameter taken from the JSON body.

    A lone model parameter is the whole body; ``Body(embed=True)`` (or having several
    body parameters) reads it from the body's key of the same name instead.
    """

    source = Source.BODY
    __slots__ = ("embed", "media_type")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        embed: bool = False,
        media_type: str = "application/json",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed
        self.media_type = media_type


class Form(Body):
    """A field of an urlencoded or multipart form, or a whole model read from the form."""

    source = Source.FORM
    __slots__ = ()

    def __init__(
        self,
        default: Any = MISSING,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **kwargs: Any,
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


class File(Form):
    """An uploaded file from a multipart form: annotate as ``UploadFile`` or ``bytes``."""

    source = Source.FILE
    __slots__ = ()

    def __init__(
        self, default: Any = MISSING, *, media_type: str = "multipart/form-data", **kwargs: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **kwargs)


class Depends:
    """Declare a dependency: the value is what ``dependency`` returns for this request.

    ``dependency`` may be a function, a coroutine function, a generator or async
    generator (the code after ``yield`` runs after the response is sent), or a class.
    Its own parameters are resolved the same way as a handler's. Within one request
    each dependency runs once and its value is shared, unless ``use_cache=False``.

    ``Annotated[User, Depends(current_user)]`` or ``user: User = Depends(current_user)``.

    ``scope`` says when the code after a generator's ``yield`` runs: ``"request"`` (the
    default) after the response is sent, ``"function"`` as soon as the handler returns,
    before the response. Either way, when the handler raises, the exception is thrown
    into the generator before the error response is made, so the dependency may turn it
    into another one (``except OwnerError: raise HTTPException(400)``).
    """

    __slots__ = ("dependency", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: Literal["function", "request"] | None = None,
    ) -> None:
        if scope not in (None, "function", "request"):
            raise ValueError(f"Depends(scope=...) is 'function' or 'request', not {scope!r}.")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        return f"Depends({name})"


class Security(Depends):
    """A dependency on a security scheme (or on something that uses one), with the OAuth2
    scopes this use of it requires::

        def current_user(security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]): ...

        @app.get("/items")
        def items(user: Annotated[User, Security(current_user, scopes=["items:read"])]): ...

    The OpenAPI document lists the scopes in the operation's ``security``, and a
    :class:`SecurityScopes` parameter of the dependency (or of the ones it uses) receives
    them, together with those required further up, to check against the token's.
    """

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes = tuple(scopes or ())

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        return f"Security({name}, scopes={list(self.scopes)!r})"


class SecurityScopes:
    """Annotate a dependency's parameter with it to receive the OAuth2 scopes that the
    ``Security(..., scopes=[...])`` above it require.

    Attributes:
        scopes: the scopes, outermost first, each once.
        scope_str: the scopes separated by spaces, as OAuth2 writes them (for a
            ``WWW-Authenticate: Bearer scope="..."`` challenge).
    """

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
