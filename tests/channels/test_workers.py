"""Two uvicorn worker processes on different ports sharing Redis (or PostgreSQL): what a
request to one publishes reaches the WebSocket and SSE clients of the other, an SSE client
resumes without loss, and a Redis restart ends in a resync, not in silence."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.servers import own_redis, reachable, read_events, wait_until
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.channels.realtime_app:app"

pytestmark = pytest.mark.slow
websockets_client = pytest.importorskip("websockets.sync.client")


@contextlib.contextmanager
def worker(
    env: dict[str, str], host: str = "127.0.0.1", port: int | None = None, wrap: Sequence[str] = ()
) -> Iterator[str]:
    """A uvicorn process serving the test app; yields its URL."""
    port = port or free_port()
    command = [
        *wrap,
        sys.executable, "-m", "uvicorn", APP,
        "--host", host, "--port", str(port),
        "--ws", "websockets-sansio", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    url = f"http://{host}:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the worker on {url} exited with {process.returncode}")
        try:
            return httpx.get(url + "/whoami", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=30, what=f"the worker on {url}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ws_connect(url: str, path: str, **options: Any) -> Any:
    return websockets_client.connect(
        url.replace("http://", "ws://") + path, open_timeout=10, close_timeout=5, **options
    )


def receive(ws: Any, timeout: float = 15) -> Any:
    return json.loads(ws.recv(timeout=timeout))


def post(url: str, text: str, attempts: int = 1) -> httpx.Response:
    """Publish ``text`` in room 42 through the worker at ``url``, retrying 503s."""
    for _ in range(attempts):
        response = httpx.post(url + "/rooms/42", json={"user": "ada", "text": text}, timeout=10)
        if response.status_code != 503:
            break
        time.sleep(0.2)
    assert response.status_code == 202, response.text
    return response


def check_broadcast_and_resume(a: str, b: str, ws: Any) -> None:
    """What B publishes reaches a WebSocket and an SSE stream on A; SSE resumes after a
    reconnection without losing what was published meanwhile."""
    assert httpx.get(a + "/whoami").json()["pid"] != httpx.get(b + "/whoami").json()["pid"]
    post(b, "one")
    assert receive(ws) == {"user": "ada", "text": "one"}
    with httpx.Client(timeout=15) as client:
        with client.stream("GET", a + "/rooms/42/events") as stream:
            lines = stream.iter_lines()
            post(b, "two")
            (seen,) = read_events(lines, 1)
        assert json.loads(seen["data"]) == {"user": "ada", "text": "two"}
        post(b, "three")  # the SSE client is away
        post(b, "four")
        headers = {"Last-Event-ID": seen["id"]}
        with client.stream("GET", a + "/rooms/42/events", headers=headers) as stream:
            lines = stream.iter_lines()
            missed = read_events(lines, 2)
            post(b, "five")
            missed += read_events(lines, 1)
    assert [json.loads(e["data"])["text"] for e in missed] == ["three", "four", "five"]
    assert [receive(ws)["text"] for _ in range(4)] == ["two", "three", "four", "five"]


def test_two_workers_share_redis_and_survive_its_restart(tmp_path: Path) -> None:
    with own_redis(tmp_path) as redis:
        env = {"NIGHTOWL_CHANNELS": redis.url}
        with worker(env) as a, worker(env) as b, ws_connect(a, "/rooms/42") as ws:
            assert receive(ws) == {"type": "ready"}
            check_broadcast_and_resume(a, b, ws)

            with (
                httpx.Client(timeout=30) as client,
                client.stream("GET", a + "/rooms/42/events") as stream,
            ):
                lines = stream.iter_lines()
                redis.restart()
                assert receive(ws, timeout=30) == {"type": "resync"}
                assert read_events(lines, 1) == [{"event": "resync", "data": '{"resync":true}'}]
                post(b, "after the restart", attempts=50)
                assert receive(ws)["text"] == "after the restart"
                (event,) = read_events(lines, 1)
                assert json.loads(event["data"])["text"] == "after the restart"

            # While Redis is down, publishing answers 503, and the subscribers wait.
            redis.stop()
            response = httpx.post(b + "/rooms/42", json={"user": "a", "text": "lost"}, timeout=30)
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            redis.start()
            assert receive(ws, timeout=30) == {"type": "resync"}
            post(b, "back", attempts=50)
            assert receive(ws)["text"] == "back"


def test_two_workers_share_postgresql(postgres_url: str) -> None:
    env = {"NIGHTOWL_CHANNELS": postgres_url.replace("+psycopg", "")}
    with worker(env) as a, worker(env) as b, ws_connect(a, "/rooms/42") as ws:
        assert receive(ws) == {"type": "ready"}
        check_broadcast_and_resume(a, b, ws)


def test_a_foreign_origin_handshake_gets_403(tmp_path: Path) -> None:
    exceptions = pytest.importorskip("websockets.exceptions")
    with worker({"NIGHTOWL_CHANNELS": "memory://"}) as a:
        assert reachable(int(a.rsplit(":", 1)[1]))
        hostile = {"origin": "https://evil.test", "additional_headers": {"Cookie": "session=1"}}
        with pytest.raises(exceptions.InvalidStatus) as refused:
            ws_connect(a, "/rooms/42", **hostile)
        assert refused.value.response.status_code == 403
        with ws_connect(a, "/rooms/42", origin=a, additional_headers={"Cookie": "s=1"}) as ws:
            assert receive(ws) == {"type": "ready"}
