"""``App(tracing=True)``: one OpenTelemetry span per request, named by route template."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from nightowl import App
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient


def test_each_request_is_a_server_span_named_by_its_route() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = App(tracing={"tracer_provider": provider})

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"user_id": user_id}

    with TestClient(app) as client:
        assert client.get("/users/42").json() == {"user_id": 42}
        client.get("/nowhere")

    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /users/{user_id}", "GET"]
    attributes = servers[0].attributes or {}
    assert attributes["http.route"] == "/users/{user_id}"
    assert "http.route" not in (servers[1].attributes or {})


def test_unknown_tracing_options_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="Unknown tracing options: exporter"):
        App(tracing={"exporter": "console"})
