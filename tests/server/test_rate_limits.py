"""Rate limits counted in Redis: two server processes share one count."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import NEEDS_REDIS
from tests.server.conftest import BIN

pytestmark = pytest.mark.slow

LIMITED_APP = """
import os

from nightowl import App

app = App(rate_limit_storage="redis://127.0.0.1:6379/0")


@app.get("/", rate_limit="3/minute")
def home():
    return {"pid": os.getpid()}


@app.get("/pid")
def pid():
    return {"pid": os.getpid()}
"""


@NEEDS_REDIS
def test_two_uvicorn_processes_share_the_count_in_redis(
    tmp_path: Path, start_server: Callable[..., Any], free_port: Callable[[], int]
) -> None:
    # A module name of its own: the counter is named after the route's handler.
    module = f"limited_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(LIMITED_APP)
    servers = []
    for _ in range(2):
        port = free_port()
        args = [str(BIN / "nightowl"), "serve", f"{module}:app", "--port", str(port)]
        servers.append(start_server(args, port=port))
    for server in servers:
        server.wait_ready("/pid")
    one, two = servers
    answers = [server.get("/") for server in (one, two, one, two)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].json()["pid"] != answers[1].json()["pid"]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert 0 < int(answers[3].headers["retry-after"]) <= 60
