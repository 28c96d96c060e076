"""OpenTelemetry traces: one server span per request, named by its route template.

``App(tracing=True)`` wraps the app in ``opentelemetry-instrumentation-asgi``'s
middleware (the OpenTelemetry project's own, so propagation, semantic conventions and
exporters are theirs), and names each span ``GET /users/{user_id}`` with the template as
``http.route``, never the raw path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.observability._routes import UNMATCHED, RouteTemplates
from nightowl.types import Scope

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["install"]

_OPTIONS = {"tracer_provider", "meter_provider", "excluded_urls"}


def install(app: App, value: Any) -> None:
    """The ``App(tracing=...)`` option: ``True``, or a dict of ``tracer_provider``,
    ``meter_provider`` (the global providers by default) and ``excluded_urls`` (a
    comma-separated list of path patterns not to trace, such as ``"/health,/metrics"``)."""
    if value is False or value is None:
        return
    if value is True:
        options: dict[str, Any] = {}
    elif isinstance(value, Mapping):
        options = dict(value)
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown tracing options: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_OPTIONS))})."
            )
    else:
        raise ImproperlyConfigured(
            f"App(tracing=...) takes True or a dict of options, not {value!r}."
        )
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError:
        raise ImproperlyConfigured(
            "App(tracing=...) needs OpenTelemetry: pip install 'nightowl[tracing]'"
        ) from None
    routes = RouteTemplates(app)

    def span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
        method = scope.get("method", "")
        if scope["type"] != "http":
            return scope["path"], {}
        template = routes.find(method, scope["path"])
        if template == UNMATCHED:
            return method, {}
        return f"{method} {template}", {"http.route": template}

    app.add_middleware(OpenTelemetryMiddleware, default_span_details=span_details, **options)
