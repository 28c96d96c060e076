"""``App(metrics=True)``: requests, errors and latency by route template at /metrics."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nightowl import App, HTTPException
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.live import free_port


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus's text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)\{(.*)\} (\S+)", line)
        if match and match.group(1) == name:
            got = ",".join(sorted(match.group(2).split(",")))
            if got == wanted:
                return float(match.group(3))
    return 0.0


def make_app() -> App:
    app = App(metrics=True)

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        if user_id == 0:
            raise HTTPException(404, "No such user.")
        return {"user_id": user_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    return app


def test_requests_are_counted_by_route_template_and_status() -> None:
    with TestClient(make_app()) as client:
        for user_id in (1, 2, 3, 0):
            client.get(f"/users/{user_id}")
        client.get("/nowhere")
        with contextlib.suppress(RuntimeError):  # a test client may raise the app's errors
            client.get("/boom")
        scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    route = {"method": "GET", "route": "/users/{user_id}"}
    assert sample(text, "nightowl_http_requests_total", **route, status="200") == 3
    assert sample(text, "nightowl_http_requests_total", **route, status="404") == 1
    assert sample(text, "nightowl_http_request_duration_seconds_count", **route) == 4
    assert (
        sample(
            text, "nightowl_http_requests_total", method="GET", route="<unmatched>", status="404"
        )
        == 1
    )
    assert sample(text, "nightowl_http_request_errors_total", method="GET", route="/boom") == 1
    assert "/users/1" not in text  # raw paths never become labels
    assert 'route="/metrics"' not in text  # scrapes are not counted


def test_options_move_and_rename_the_metrics() -> None:
    app = App(metrics={"path": "/internal/metrics", "namespace": "shop", "buckets": [0.1, 1.0]})

    @app.get("/")
    async def home() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        client.get("/")
        assert client.get("/metrics").status_code == 404
        text = client.get("/internal/metrics").text
    assert (
        sample(text, "shop_http_request_duration_seconds_bucket", method="GET", route="/", le="0.1")
        == 1
    )
    assert "/internal/metrics" not in app.openapi()["paths"]


@pytest.mark.parametrize(
    ("value", "message"),
    [({"path": "/m", "bucket": [1]}, "Unknown metrics options: bucket"), (3, "takes True")],
)
def test_bad_metrics_options_are_refused(value: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        App(metrics=value)


WORKERS_APP = """
from nightowl import App

app = App(metrics=True)


@app.get("/ping")
async def ping():
    return {"pong": True}
"""


@pytest.mark.slow
def test_two_workers_report_their_sum(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(WORKERS_APP)
    port = free_port()
    command = [str(Path(sys.executable).parent / "nightowl"), "serve", "app:app", "--workers", "2"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/ping", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        for _ in range(40):  # fresh connections: both workers answer some
            httpx.get(url + "/ping")
        totals = {
            sample(
                httpx.get(url + "/metrics").text,
                "nightowl_http_requests_total",
                method="GET",
                route="/ping",
                status="200",
            )
            for _ in range(6)
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert totals == {41.0}  # whichever worker answers the scrape
