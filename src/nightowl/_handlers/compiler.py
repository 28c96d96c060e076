"""Compile an app's routes, once, into what serves them and what documents them.

:class:`Compiler` is the machinery's entry point for the app: for each HTTP route it
returns a :class:`CompiledRoute` (the analysed signature, the plan, the renderer and the
runner), which the app puts in its route table and the OpenAPI generator reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nightowl._errors import ExceptionHandlers
from nightowl._handlers.analysis import analyse, route_dependant
from nightowl._handlers.dependant import Dependant, callable_name
from nightowl._handlers.plan import Plan
from nightowl._handlers.render import Renderer, response_model_from
from nightowl._handlers.runners import (
    HandlerRunner,
    Overrides,
    Runner,
    WebSocketRunner,
    http_runner,
    websocket_runner,
)
from nightowl._handlers.sending import Responder
from nightowl.responses import JSONResponse, Response
from nightowl.routing import Route, WebSocketRoute

__all__ = ["CompiledRoute", "Compiler"]


class CompiledRoute:
    """What one HTTP route was compiled into.

    Attributes:
        route: the route as registered (prefixes, tags and dependencies applied).
        dependant: its handler's analysed signature, route-level dependencies first.
        plan: how a request is turned into the handler's arguments.
        renderer: how the result becomes a response; ``renderer.model`` is the
            response model (``None``: not filtered).
        runner: the coroutine that answers a request.
    """

    __slots__ = ("dependant", "plan", "renderer", "route", "runner")

    def __init__(
        self, route: Route, dependant: Dependant, plan: Plan, renderer: Renderer, runner: Runner
    ) -> None:
        self.route = route
        self.dependant = dependant
        self.plan = plan
        self.renderer = renderer
        self.runner = runner

    @property
    def response_model(self) -> Any:
        """The type the output is filtered through and documented as, or ``None``."""
        return self.renderer.model

    def __repr__(self) -> str:
        return f"<CompiledRoute {self.route!r}>"


class Compiler:
    """Compiles routes with one app's providers, overrides and error handlers.

    Args:
        providers: types injected by annotation alone (``app.provide``).
        overrides: ``app.dependency_overrides``, read per request (tests set it late).
        errors: the app's exception handlers, which answer a planned runner's errors.
        handler_runners: providers' runners for the ``async def`` handlers using them.
        default_response_class: the class for results of routes that name none.
        strict_content_type: refuse JSON bodies sent with no ``Content-Type``.
    """

    __slots__ = (
        "_override_plans",
        "default_response_class",
        "errors",
        "handler_runners",
        "overrides",
        "providers",
        "strict_content_type",
    )

    def __init__(
        self,
        providers: Mapping[Any, Callable[..., Any]],
        overrides: Overrides,
        errors: ExceptionHandlers,
        handler_runners: Mapping[Callable[..., Any], HandlerRunner],
        default_response_class: type[Response] = JSONResponse,
        strict_content_type: bool = False,
    ) -> None:
        self.default_response_class = default_response_class
        self.strict_content_type = strict_content_type
        self.providers = providers
        self.overrides = overrides
        self.errors = errors
        self.handler_runners = handler_runners
        self._override_plans: dict[Callable[..., Any], Plan] = {}

    def route(self, route: Route) -> CompiledRoute:
        """Compile an HTTP route."""
        dependant = route_dependant(route, self.providers)
        plan = Plan(dependant, compile_override=self.override)
        if plan.body is not None:
            plan.body.strict_content_type = self.strict_content_type
        response_class = route.options.get("response_class")
        stream = None
        if dependant.is_generator or dependant.is_async_generator:
            # Imported here: only generator handlers stream (SSE or JSON lines).
            from nightowl._handlers.streams import item_serializer, streams_events
            from nightowl.sse import EventSourceResponse

            if response_class is None and streams_events(dependant.return_annotation):
                response_class = EventSourceResponse
            stream = item_serializer(dependant.return_annotation)
        if response_class is None:
            response_class = self.default_response_class
        renderer = Renderer(
            response_model_from(dependant.return_annotation, route.response_model),
            response_class,
            route.status_code,
            callable_name(route.endpoint),
            serialization=route.serialization,
            status_given="status_code" in route.options,
            stream=stream,
        )
        runner = http_runner(
            plan, Responder(renderer), self.errors, self.overrides, self.handler_runners
        )
        return CompiledRoute(route, dependant, plan, renderer, runner)

    def websocket(self, route: WebSocketRoute) -> WebSocketRunner:
        """Compile a WebSocket route into its runner."""
        plan = Plan(route_dependant(route, self.providers), compile_override=self.override)
        return websocket_runner(plan, self.overrides)

    def override(self, call: Callable[..., Any]) -> Plan:
        """The plan of a dependency override, compiled the first time a request needs it."""
        plan = self._override_plans.get(call)
        if plan is None:
            plan = Plan(
                analyse(call, providers=self.providers), root=False, compile_override=self.override
            )
            self._override_plans[call] = plan
        return plan
