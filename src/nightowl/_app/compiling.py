"""Compiling the registered routes into the tables that serve them, on first use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nightowl._errors import ExceptionHandlers
from nightowl._handlers.compiler import CompiledRoute, Compiler
from nightowl._handlers.runners import HandlerRunner, Runner, WebSocketRunner
from nightowl._table import PathTemplate, RouteTable
from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.problems import ErrorFormat
from nightowl.responses import Response
from nightowl.routing import Route, Router, WebSocketRoute
from nightowl.types import ASGIApp

__all__ = ["Compiling"]


class Compiling(Router):
    """A router whose routes are compiled once into route tables, recompiled after a change."""

    _errors: ExceptionHandlers
    _overrides: dict[Callable[..., Any], Callable[..., Any]]
    _providers: dict[Any, Callable[..., Any]]
    _runners: dict[Callable[..., Any], HandlerRunner]
    _mounts: list[tuple[str, ASGIApp, str | None]]
    # What the OpenAPI document and the docs pages read.
    title: str
    version: str
    description: str
    servers: list[Mapping[str, Any]]
    summary: str | None
    openapi_tags: list[dict[str, Any]]
    contact: dict[str, Any] | None
    license_info: dict[str, Any] | None
    terms_of_service: str | None
    openapi_url: str | None
    docs_url: str | None
    redoc_url: str | None
    default_response_class: type[Response]
    root_path: str
    root_path_in_servers: bool
    separate_input_output_schemas: bool
    strict_content_type: bool
    swagger_ui_parameters: dict[str, Any]
    webhooks: Router

    def _init_compiling(self) -> None:
        self._openapi: dict[str, Any] | None = None
        self._table: RouteTable[Runner] | None = None
        self._ws_table: RouteTable[WebSocketRunner] | None = None
        self._compiled: list[CompiledRoute] = []
        self._names: dict[str, PathTemplate] = {}
        self._on_change = self._invalidate

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """Swap a dependency for another in tests: ``app.dependency_overrides[real] = fake``.

        Replacing the whole mapping (``app.dependency_overrides = {real: fake}``) works too.
        """
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: dict[Callable[..., Any], Callable[..., Any]]) -> None:
        self._overrides = overrides
        self._invalidate()  # the compiled runners hold the mapping they were given

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route named ``name``, with ``params`` filled in."""
        self._ensure_compiled()
        template = self._names.get(name)
        if template is None:
            raise KeyError(f"No route named {name!r}.")
        return template.expand(params)

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI 3.1 document, built on first use and cached."""
        if self._openapi is None:
            from nightowl.openapi import build_document

            self._openapi = build_document(self)
        return self._openapi

    @property
    def error_format(self) -> ErrorFormat:
        """Writes every error response no exception handler takes, and tells OpenAPI its
        shape: RFC 9457 problems by default (:class:`nightowl.problems.ErrorFormat`).

        Set it to an ``ErrorFormat`` or to a function ``exc -> body``
        (``exc`` an :class:`~nightowl.exceptions.HTTPException`).
        """
        return self._errors.format

    @error_format.setter
    def error_format(self, value: ErrorFormat | Callable[[HTTPException], Any]) -> None:
        self._errors.format = value if isinstance(value, ErrorFormat) else ErrorFormat(value)
        self._invalidate()

    def _invalidate(self) -> None:
        self._openapi = None
        self._table = None
        self._ws_table = None

    def _ensure_compiled(self) -> RouteTable[Runner]:
        if self._table is None:
            self._compile()
        assert self._table is not None
        return self._table

    def compiled_routes(self) -> Sequence[CompiledRoute]:
        """Every HTTP route as compiled for serving: its analysed handler, plan, response
        model and renderer (compiling the app first if need be).

        The OpenAPI document is built from these, so that it describes exactly what is
        served and no handler is analysed twice. The items' type is internal.
        """
        self._ensure_compiled()
        return self._compiled

    def compile_documented(self, route: Route) -> CompiledRoute:
        """``route`` compiled as the served routes are, for a route that is documented
        but never served (a callback's, a webhook's): the OpenAPI document reads it."""
        return self._compiler().route(route)

    def _compiler(self) -> Compiler:
        return Compiler(
            self._providers,
            self.dependency_overrides,
            self._errors,
            self._runners,
            self.default_response_class,
            self.strict_content_type,
        )

    def _compile(self) -> None:
        table: RouteTable[Runner] = RouteTable()
        ws_table: RouteTable[WebSocketRunner] = RouteTable()
        compiled: list[CompiledRoute] = []
        names: dict[str, PathTemplate] = {}
        compiler = self._compiler()
        from nightowl._conflicts import check_routes, describe_handler
        from nightowl.openapi import docs_routes

        routes = [*self.iter_routes(), *docs_routes(self)]
        for route in routes:
            if not route.path:
                raise ImproperlyConfigured(
                    f"The route {route.name!r} has the path '' outside any router prefix; "
                    "give it '/'."
                )
            if isinstance(route, Route) and not route.served:
                raise ImproperlyConfigured(
                    f"The route {route.name!r} has the path {route.path!r}, a callback's or "
                    "webhook's, which is documented, never served: give it as callbacks= "
                    "of the route that makes the request, or add it to app.webhooks."
                )
        check_routes(routes)  # a duplicate or shadowed route, named with both handlers
        for route in routes:
            names.setdefault(route.name, route.template)
            if isinstance(route, WebSocketRoute):
                ws_table.add(route.template, ["WEBSOCKET"], compiler.websocket(route))
                continue
            try:
                item = compiler.route(route)
            except ImproperlyConfigured as exc:  # name the handler it is about
                raise ImproperlyConfigured(f"{describe_handler(route)}: {exc}") from None
            compiled.append(item)
            table.add(route.template, route.methods, item.runner)
        for item in compiled:
            methods = item.route.methods
            if "GET" in methods and "HEAD" not in methods:
                table.add(item.route.template, ["HEAD"], item.runner, implicit=True)
        for prefix, _, name in self._mounts:
            if name:
                names.setdefault(name, PathTemplate(prefix + "/{path:path}"))
        self._names = names
        self._ws_table = ws_table
        self._compiled = compiled
        self._table = table

    @property
    def providers(self) -> Mapping[Any, Callable[..., Any]]:
        """Types injected by annotation alone (see ``App.provide``)."""
        return self._providers
