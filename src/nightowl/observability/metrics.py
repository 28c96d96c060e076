"""Prometheus metrics: requests, errors and latency by route template, at ``/metrics``.

``App(metrics=True)`` counts every HTTP request by method, route template and status,
counts the unhandled errors, and times each request in a histogram. With several worker
processes, ``nightowl serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder that
every worker writes to, and ``/metrics`` adds up all of them (prometheus-client's
multiprocess mode), so a scrape that lands on any worker sees the whole server.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.observability._routes import RouteTemplates
from nightowl.responses import Response
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["MULTIPROCESS_ENV", "PrometheusMiddleware", "install"]

#: The environment variable of prometheus-client's multiprocess mode.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OPTIONS = {"path", "buckets", "namespace"}
# Seconds; the defaults of prometheus-client, with finer steps under 100 ms.
DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Metrics:
    """The app's metric objects, in a registry of its own (two apps never collide)."""

    def __init__(self, namespace: str, buckets: Sequence[float]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route")
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            (*labels, "status"),
            namespace=namespace,
            registry=self.registry,
        )
        self.errors = Counter(
            "http_request_errors",
            "Requests answered with a server error (5xx), by method and route template.",
            labels,
            namespace=namespace,
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template.",
            labels,
            namespace=namespace,
            buckets=tuple(buckets),
            registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape gets: every worker's values in multiprocess mode."""
        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            REGISTRY,
            CollectorRegistry,
            generate_latest,
        )

        if os.environ.get(MULTIPROCESS_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry) + generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class PrometheusMiddleware:
    """Times and counts every HTTP request that passes through it."""

    def __init__(
        self, app: ASGIApp, *, metrics: _Metrics, routes: RouteTemplates, skip: str
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == self.skip:
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"]
        route = self.routes.find(method, scope["path"])
        try:
            await self.app(scope, receive, send_status)
        finally:
            if status >= 500:
                self.metrics.errors.labels(method, route).inc()
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)


def install(app: App, value: Any) -> None:
    """The ``App(metrics=...)`` option: ``True``, the endpoint's path, or a dict of
    ``path`` (``"/metrics"``), ``buckets`` (latency histogram bounds, in seconds) and
    ``namespace`` (the metric names' prefix, ``"nightowl"``)."""
    if value is False or value is None:
        return
    options = _options(value)
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "App(metrics=...) needs prometheus-client: pip install 'nightowl[metrics]'"
        ) from None
    metrics = _Metrics(
        options.get("namespace", "nightowl"), options.get("buckets", DEFAULT_BUCKETS)
    )
    path: str = options.get("path", "/metrics")

    async def metrics_endpoint() -> Response:
        body, media_type = metrics.exposition()
        return Response(body, media_type=media_type)

    app.add_route(path, metrics_endpoint, include_in_schema=False, name="metrics")
    app.add_middleware(PrometheusMiddleware, metrics=metrics, routes=RouteTemplates(app), skip=path)


def _options(value: Any) -> dict[str, Any]:
    if value is True:
        return {}
    if isinstance(value, str):
        return {"path": value}
    if isinstance(value, Mapping):
        unknown = set(value) - _OPTIONS
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown metrics options: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(_OPTIONS))})."
            )
        return dict(value)
    raise ImproperlyConfigured(
        f"App(metrics=...) takes True, a path or a dict of options, not {value!r}."
    )
