"""``fastapi.routing``: ``APIRouter`` and ``APIRoute`` on nightowl's ``Router`` and ``Route``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from nightowl.exceptions import ImproperlyConfigured
from nightowl.params import Depends
from nightowl.responses import Response
from nightowl.routing import Route, Router, WebSocketRoute

__all__ = ["APIRoute", "APIRouter", "APIWebSocketRoute", "FastAPIRouting"]

F = TypeVar("F", bound=Callable[..., Any])

#: FastAPI names nightowl's routes answer to.
APIRoute = Route
APIWebSocketRoute = WebSocketRoute


class FastAPIRouting:
    """FastAPI's spellings of a router's methods, mixed into ``APIRouter`` and ``FastAPI``."""

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[Any] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: dict[int | str, Any] | None = None,
        default_response_class: type[Response] | None = None,
        include_in_schema: bool = True,
        deprecated: bool | None = None,
    ) -> None:
        """Serve ``router``'s routes here under ``prefix`` (nightowl: ``include``)."""
        if responses:
            router.responses = {**responses, **router.responses}
        if not include_in_schema or deprecated is not None or default_response_class:
            _mark(router, include_in_schema, deprecated, default_response_class)
        self.include(  # type: ignore[attr-defined]
            router, prefix=prefix, tags=list(tags or ()), dependencies=list(dependencies or ())
        )
        for event, func in getattr(router, "_events", ()):
            self._add_event(event, func)

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Any,
    ) -> None:
        """Register ``endpoint`` at ``path`` (nightowl: ``add_route``)."""
        self.add_route(path, endpoint, methods=methods, **options)  # type: ignore[attr-defined]

    def api_route(
        self, path: str, *, methods: Sequence[str] | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add_api_route` (nightowl: ``route``)."""
        return self.route(path, methods=methods, **options)  # type: ignore[attr-defined,no-any-return]

    def add_api_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None, **options: Any
    ) -> None:
        """Register a WebSocket endpoint (nightowl: ``websocket``)."""
        self.websocket(path, name=name, **options)(endpoint)  # type: ignore[attr-defined]

    def on_event(self, event: str) -> Callable[[F], F]:
        """``@app.on_event("startup")`` / ``("shutdown")`` (nightowl: ``on_startup``...)."""
        if event not in ("startup", "shutdown"):
            raise ImproperlyConfigured(f'on_event() takes "startup" or "shutdown", not {event!r}.')
        warnings.warn(
            "on_event is deprecated, use lifespan event handlers instead.",
            DeprecationWarning,
            stacklevel=2,
        )

        def decorator(func: F) -> F:
            self._add_event(event, func)
            return func

        return decorator

    def _add_event(self, event: str, func: Callable[..., Any]) -> None:
        raise NotImplementedError

    @property
    def route_class(self) -> type[Route]:
        """The class of the routes (always nightowl's ``Route``)."""
        return Route

    @route_class.setter
    def route_class(self, value: type[Any]) -> None:
        _refuse_route_class(value)


def _refuse_route_class(value: Any) -> None:
    """``route_class=``: refused, naming the option and what to use instead."""
    if value is not Route:
        raise ImproperlyConfigured(
            f"route_class={getattr(value, '__name__', value)}: nightowl's routes have no "
            "get_route_handler to override. Wrap requests in @app.middleware('http') "
            "middleware, or read them in a dependency, instead."
        )


def _mark(
    router: Router,
    include_in_schema: bool,
    deprecated: bool | None,
    default_response_class: type[Response] | None,
) -> None:
    for route in router._routes:
        if isinstance(route, Route):
            if not include_in_schema:
                route.options["include_in_schema"] = False
            if deprecated is not None:
                route.options.setdefault("deprecated", deprecated)
            if default_response_class is not None:
                route.options.setdefault("response_class", default_response_class)


class APIRouter(FastAPIRouting, Router):
    """FastAPI's ``APIRouter``: nightowl's :class:`~nightowl.routing.Router` with
    ``include_router``, ``add_api_route``, ``api_route`` and ``on_event``.

    Args:
        prefix, tags, dependencies, responses: as nightowl's ``Router`` takes them.
        default_response_class: the response class of routes that name none.
        on_startup, on_shutdown: functions run when the app including this router
            starts and stops.
        generate_unique_id_function: makes the operationId of the router's routes.
        route_class: refused unless ``APIRoute`` (nightowl's routes have no
            ``get_route_handler``); use middleware or a dependency.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: Sequence[Any] | None = None,
        dependencies: Sequence[Depends] | None = None,
        responses: dict[int | str, Any] | None = None,
        default_response_class: type[Response] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Route], str] | None = None,
        route_class: type[Route] = Route,
    ) -> None:
        _refuse_route_class(route_class)
        super().__init__(
            prefix,
            tags=list(tags or ()),
            dependencies=list(dependencies or ()),
            responses=responses,
            generate_unique_id_function=generate_unique_id_function,
        )
        self._events: list[tuple[str, Callable[..., Any]]] = [
            *(("startup", f) for f in on_startup or ()),
            *(("shutdown", f) for f in on_shutdown or ()),
        ]
        self._defaults = (include_in_schema, deprecated, default_response_class)

    def _add_event(self, event: str, func: Callable[..., Any]) -> None:
        self._events.append((event, func))

    def add_route(self, path: str, endpoint: Any, methods: Any = None, **options: Any) -> None:
        """Register ``endpoint``, with this router's default response class and flags."""
        include_in_schema, deprecated, default_response_class = self._defaults
        if default_response_class is not None:
            options.setdefault("response_class", default_response_class)
        if deprecated is not None:
            options.setdefault("deprecated", deprecated)
        if not include_in_schema:
            options["include_in_schema"] = False
        super().add_route(path, endpoint, methods=methods, **options)
