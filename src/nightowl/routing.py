"""Routes and routers: what a user registers, before the app compiles it.

``Router`` is Flask's blueprint and FastAPI's ``APIRouter``: a group of routes with a
shared prefix, tags and dependencies. ``App`` is itself a router.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypedDict, TypeVar, Unpack

from nightowl._table import PathTemplate
from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Depends
from nightowl.responses import JSONResponse, Response
from nightowl.types import MISSING

__all__ = [
    "HTTP_METHODS",
    "Route",
    "RouteOptions",
    "Router",
    "WebSocketRoute",
    "Webhooks",
    "is_documented_only",
    "path",
]

F = TypeVar("F", bound=Callable[..., Any])

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class RouteOptions(TypedDict, total=False):
    """Options every route takes (``@app.get(path, **options)``)."""

    #: Status for results that do not set their own (201 for creations...).
    status_code: int
    #: The type that filters and documents the output; the return annotation by default.
    response_model: Any
    #: The class for results that are not responses (``HTMLResponse`` turns a str into HTML).
    response_class: type[Response]
    #: The route's name for ``url_for``; the handler's name by default.
    name: str
    #: OpenAPI tags (strings, or members of an ``Enum`` of them).
    tags: list[Any]
    #: Dependencies run before the handler, whose values are not passed to it.
    dependencies: Sequence[Depends]
    #: OpenAPI summary and description (the docstring by default).
    summary: str
    description: str
    #: Extra documented responses: ``{404: {"description": "..."}}``.
    responses: dict[int | str, Any]
    #: Mark the operation deprecated in OpenAPI.
    deprecated: bool
    #: Leave the route out of OpenAPI.
    include_in_schema: bool
    #: OpenAPI operationId; derived from the handler by default.
    operation_id: str
    #: Makes the operationId of a route given none: ``lambda route: f"{route.tags[0]}-{route.name}"``.
    generate_unique_id_function: Callable[[Route], str]
    #: The description of the success response (the status phrase by default).
    response_description: str
    #: Merged into the route's OpenAPI operation last, key by key (lists extend):
    #: ``{"x-internal": True}``, or a ``requestBody`` for a handler that reads it itself.
    openapi_extra: dict[str, Any]
    #: Requests the API sends back to the client, documented under the operation's
    #: ``callbacks``: the routes of a router (or the router) whose paths are OpenAPI
    #: runtime expressions such as ``{$request.body#/callback_url}/events``.
    callbacks: Router | Sequence[Route | WebSocketRoute]
    #: Requests allowed per client, such as ``"10/minute"`` (``pip install
    #: 'nightowl[ratelimit]'``; see :mod:`nightowl.ratelimit`).
    rate_limit: str
    #: Fields of the response model to leave out of (or keep in) the output; a set of
    #: names, or pydantic's nested dict form.
    response_model_exclude: set[str] | dict[str, Any]
    response_model_include: set[str] | dict[str, Any]
    #: Leave out fields the result did not set, that equal their default, or that are None.
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    #: Write fields under their alias (``alias_generator=to_camel`` gives camelCase); true
    #: by default, as FastAPI does.
    response_model_by_alias: bool


_OPTION_NAMES = frozenset(RouteOptions.__required_keys__ | RouteOptions.__optional_keys__)


def _check_options(options: Mapping[str, Any], where: str) -> None:
    """A ``TypeError`` naming the first option that is not a route option (a misspelt
    ``status_cod=201`` would otherwise be ignored), with the closest known name."""
    for name in options:
        if name not in _OPTION_NAMES:
            import difflib

            close = difflib.get_close_matches(name, _OPTION_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(_OPTION_NAMES))
            raise TypeError(
                f"{where}() got an unexpected keyword argument {name!r}{hint} "
                f"(route options: {known})"
            )


def is_documented_only(path: str) -> bool:
    """Whether ``path`` is an OpenAPI runtime expression (``{$request.body#/callback_url}/events``):
    a callback's, a request the API sends rather than serves."""
    return path.startswith("{$")


class Route:
    """One HTTP endpoint: a path, its methods, a handler and its options.

    A callback's path (an OpenAPI runtime expression, ``{$...}``) or a webhook's name
    (``documented_only``) makes a route that is documented but never served.
    """

    __slots__ = (
        "endpoint",
        "methods",
        "name",
        "options",
        "path",
        "served",
        "template",
        "view_method",
    )

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Iterable[str],
        options: RouteOptions,
        view_method: str | None = None,
        *,
        documented_only: bool = False,
    ) -> None:
        self.path = path
        #: False for a callback's or webhook's route, which is only documented.
        self.served = not (documented_only or is_documented_only(path))
        # "" is the path of a router's prefix itself: Router(prefix="/articles").get("").
        # A documented-only route has no parameters in its path to read.
        self.template = PathTemplate(path or "/" if self.served else "/")
        self.endpoint = endpoint
        self.methods = tuple(m.upper() for m in methods)
        self.options = options
        self.view_method = view_method
        self.name: str = options.get("name") or str(getattr(endpoint, "__name__", "route"))
        for method in self.methods:
            if method not in HTTP_METHODS:
                raise ImproperlyConfigured(f"Unknown HTTP method {method!r} for {path!r}.")

    @property
    def status_code(self) -> int:
        """The default success status."""
        return self.options.get("status_code", 200)

    @property
    def response_class(self) -> type[Response]:
        """The response class for plain results."""
        return self.options.get("response_class", JSONResponse)

    @property
    def tags(self) -> list[Any]:
        """The route's OpenAPI tags (FastAPI's ``route.tags``)."""
        return list(self.options.get("tags", []))

    @property
    def response_model(self) -> Any:
        """The ``response_model=`` given (or ``MISSING``)."""
        return self.options.get("response_model", MISSING)

    @property
    def serialization(self) -> dict[str, Any]:
        """The ``response_model_*`` options, as pydantic's serializer takes them."""
        options: Mapping[str, Any] = self.options
        return {
            name[len("response_model_") :]: value
            for name, value in options.items()
            if name.startswith("response_model_")
        }

    def __repr__(self) -> str:
        return f"<Route {','.join(self.methods)} {self.path} -> {self.name}>"


class WebSocketRoute:
    """A WebSocket endpoint."""

    __slots__ = ("dependencies", "endpoint", "name", "path", "template")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        dependencies: Sequence[Depends] = (),
    ) -> None:
        self.path = path
        self.template = PathTemplate(path)
        self.endpoint = endpoint
        self.name: str = name or str(getattr(endpoint, "__name__", "websocket"))
        self.dependencies = list(dependencies)

    def __repr__(self) -> str:
        return f"<WebSocketRoute {self.path} -> {self.name}>"


class _Include:
    __slots__ = ("dependencies", "prefix", "router", "tags")

    def __init__(
        self, router: Router, prefix: str, tags: list[str], dependencies: list[Depends]
    ) -> None:
        self.router = router
        self.prefix = prefix
        self.tags = tags
        self.dependencies = dependencies


def _join(prefix: str, path: str) -> str:
    if not prefix or is_documented_only(path):
        return path
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    return prefix + path if path != "/" or not prefix else prefix + "/"


def _with_battery_option(route: Route, option: str) -> Route:
    """The route with the dependency a battery makes of ``option``: batteries implement
    such options through the ``nightowl.route_options`` entry points (the core never
    imports a battery)."""
    from importlib.metadata import entry_points

    options: dict[str, Any] = dict(route.options)
    value = options.pop(option)
    found = [ep for ep in entry_points(group="nightowl.route_options") if ep.name == option]
    if not found:
        raise ImproperlyConfigured(
            f"The route option {option}= needs its battery: pip install 'nightowl[ratelimit]'."
        )
    dependency = found[0].load()(value, route)
    options["dependencies"] = [*options.get("dependencies", []), dependency]
    return Route(
        route.path,
        route.endpoint,
        route.methods,
        options,  # type: ignore[arg-type]
        route.view_method,
        documented_only=not route.served,
    )


class _PathEntry:
    """What :func:`path` returns: a route waiting to be added with ``add_routes``."""

    __slots__ = ("endpoint", "methods", "options", "path")

    def __init__(
        self, path: str, endpoint: Any, methods: Sequence[str] | None, options: RouteOptions
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.methods = methods
        self.options = options


def path(
    route: str,
    endpoint: Any,
    *,
    methods: Sequence[str] | None = None,
    **options: Unpack[RouteOptions],
) -> _PathEntry:
    """A Django-style url entry: ``app.add_routes([path("/health", health), ...])``.

    ``endpoint`` is a function (GET unless ``methods`` says otherwise), a class-based
    view, or a :class:`Router` to include under ``route``.
    """
    _check_options(options, "path")
    return _PathEntry(route, endpoint, methods, options)


def _verb(method: str) -> Callable[..., Callable[[F], F]]:
    def shortcut(self: Router, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        _check_options(options, method.lower())
        return self.route(path, methods=[method], **options)

    shortcut.__name__ = shortcut.__qualname__ = method.lower()
    shortcut.__doc__ = (
        f"Register the decorated function for ``{method} path``; see :class:`RouteOptions`."
    )
    return shortcut


class Router:
    """A group of routes with a shared prefix, tags and dependencies.

    ::

        api = Router(prefix="/api", tags=["api"])

        @api.get("/users/{user_id}")
        def get_user(user_id: int) -> UserOut: ...

        app.include(api)

    Args:
        prefix: prepended to every route path.
        tags: OpenAPI tags for every route.
        dependencies: ``Depends(...)`` run before every handler of the router.
        responses: extra documented responses for every route.
        default_response_class: the ``response_class`` of the router's routes that name none.
        generate_unique_id_function: makes the OpenAPI operationId of the router's routes
            that give no ``operation_id`` (a route's own function wins).
    """

    #: True for :class:`Webhooks`: routes documented, never served.
    documented_only = False

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[Any] = (),
        dependencies: Sequence[Depends] = (),
        responses: dict[int | str, Any] | None = None,
        default_response_class: type[Response] | None = None,
        generate_unique_id_function: Callable[[Route], str] | None = None,
    ) -> None:
        if prefix and not prefix.startswith("/"):
            raise ImproperlyConfigured(f"A router prefix must start with '/': {prefix!r}")
        self.prefix = prefix.rstrip("/")
        self.tags = list(tags)
        self.dependencies = list(dependencies)
        self.responses = dict(responses or {})
        self.router_response_class = default_response_class
        self.generate_unique_id_function = generate_unique_id_function
        self._routes: list[Route | WebSocketRoute] = []
        self._includes: list[_Include] = []
        self._on_change: Callable[[], None] | None = None

    # -- registering ----------------------------------------------------------------------
    def route(
        self, path: str, methods: Sequence[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Register the decorated function (or class-based view) for ``methods`` (GET by default)."""
        _check_options(options, "route")

        def decorator(endpoint: F) -> F:
            self.add_route(path, endpoint, methods=methods, **options)
            return endpoint

        return decorator

    get = _verb("GET")
    post = _verb("POST")
    put = _verb("PUT")
    patch = _verb("PATCH")
    delete = _verb("DELETE")
    head = _verb("HEAD")
    options = _verb("OPTIONS")

    def add_route(
        self,
        path: str,
        endpoint: Any,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Register ``endpoint`` at ``path``.

        A class is a class-based view: each of its ``get``, ``post``... methods answers
        that HTTP method, and a new instance is made for every request.
        """
        _check_options(options, "add_route")
        if inspect.isclass(endpoint):
            verbs = [m for m in HTTP_METHODS if callable(getattr(endpoint, m.lower(), None))]
            if methods is not None:
                verbs = [m for m in verbs if m in {x.upper() for x in methods}]
            if not verbs:
                raise ImproperlyConfigured(
                    f"Class-based view {endpoint.__name__} has no get/post/... methods."
                )
            base_name = options.get("name") or endpoint.__name__
            for verb in verbs:
                route_options: RouteOptions = {
                    **options,
                    "name": base_name if len(verbs) == 1 else f"{base_name}.{verb.lower()}",
                }
                self._add(
                    Route(
                        path,
                        endpoint,
                        [verb],
                        route_options,
                        view_method=verb.lower(),
                        documented_only=self.documented_only,
                    )
                )
            return
        if not callable(endpoint):
            raise ImproperlyConfigured(f"The endpoint for {path!r} is not callable: {endpoint!r}")
        self._add(
            Route(path, endpoint, methods or ["GET"], options, documented_only=self.documented_only)
        )

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Sequence[Depends] = ()
    ) -> Callable[[F], F]:
        """Register the decorated coroutine as the WebSocket handler at ``path``."""

        def decorator(endpoint: F) -> F:
            self._add(WebSocketRoute(path, endpoint, name, dependencies))
            return endpoint

        return decorator

    def add_routes(self, entries: Iterable[_PathEntry]) -> None:
        """Add Django-style ``path(...)`` entries."""
        for entry in entries:
            if isinstance(entry.endpoint, Router):
                self.include(entry.endpoint, prefix=entry.path)
            else:
                self.add_route(entry.path, entry.endpoint, methods=entry.methods, **entry.options)

    def include(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
    ) -> None:
        """Serve ``router``'s routes (and the routers it includes) here, under ``prefix``."""
        if router is self:
            raise ImproperlyConfigured("A router cannot include itself.")
        self._includes.append(_Include(router, prefix.rstrip("/"), list(tags), list(dependencies)))
        router._on_change = self._changed
        self._changed()

    def _add(self, route: Route | WebSocketRoute) -> None:
        if isinstance(route, Route) and "rate_limit" in route.options:
            route = _with_battery_option(route, "rate_limit")
        if self.router_response_class is not None and isinstance(route, Route):
            route.options.setdefault("response_class", self.router_response_class)
        if self.generate_unique_id_function is not None and isinstance(route, Route):
            route.options.setdefault(
                "generate_unique_id_function", self.generate_unique_id_function
            )
        self._routes.append(route)
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # -- reading --------------------------------------------------------------------------
    def iter_routes(self) -> Iterator[Route | WebSocketRoute]:
        """Every route, with this router's and its includers' prefixes, tags and dependencies applied."""
        for route in self._routes:
            yield self._apply(route, self.prefix, self.tags, self.dependencies)
        for include in self._includes:
            for route in include.router.iter_routes():
                yield self._apply(
                    route,
                    self.prefix + include.prefix,
                    [*self.tags, *include.tags],
                    [*self.dependencies, *include.dependencies],
                )

    def _apply(
        self,
        route: Route | WebSocketRoute,
        prefix: str,
        tags: list[str],
        dependencies: list[Depends],
    ) -> Route | WebSocketRoute:
        if not prefix and not tags and not dependencies and not self.responses:
            return route
        if isinstance(route, WebSocketRoute):
            return WebSocketRoute(
                _join(prefix, route.path),
                route.endpoint,
                route.name,
                [*dependencies, *route.dependencies],
            )
        options: RouteOptions = dict(route.options)  # type: ignore[assignment]
        if tags:
            options["tags"] = [*tags, *(t for t in options.get("tags", []) if t not in tags)]
        if dependencies:
            options["dependencies"] = [*dependencies, *options.get("dependencies", [])]
        if self.responses:
            options["responses"] = {**self.responses, **options.get("responses", {})}
        options.setdefault("name", route.name)
        return Route(
            _join(prefix, route.path),
            route.endpoint,
            route.methods,
            options,
            route.view_method,
            documented_only=not route.served,
        )

    @property
    def routes(self) -> list[Route | WebSocketRoute]:
        """All routes, flattened."""
        return list(self.iter_routes())


class Webhooks(Router):
    """``app.webhooks``: the requests an API sends to its subscribers, each under a name
    (``@app.webhooks.post("new-subscription")``), documented under the OpenAPI
    ``webhooks`` and never served."""

    documented_only = True

    def include(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
    ) -> None:
        """Webhooks are registered one by one; a router cannot be included."""
        raise ImproperlyConfigured("app.webhooks takes routes (@app.webhooks.post(name)).")
