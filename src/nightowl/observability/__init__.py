"""Watching the app run: Prometheus metrics (``App(metrics=True)``) and OpenTelemetry
traces (``App(tracing=True)``), both labelled by route template."""

from nightowl.observability.metrics import PrometheusMiddleware

__all__ = ["PrometheusMiddleware"]
