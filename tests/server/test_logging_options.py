"""``--log-format``, ``--log-config`` and ``--log-level`` on ``nightowl serve``: every line
with its time, level and request id, under uvicorn and granian."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import BIN

pytestmark = pytest.mark.slow

Server = Any


def _serve(
    start_server: Callable[..., Server], free_port: Callable[[], int], server: str, *extra: str
) -> Server:
    if server == "granian" and importlib.util.find_spec("granian") is None:
        pytest.skip("granian is not installed")
    port = free_port()
    args = [str(BIN / "nightowl"), "serve", "app:app", "--server", server, "--port", str(port)]
    started = start_server([*args, *extra], port=port)
    started.wait_ready()
    return started


def _json_lines(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_json_lines_carry_level_time_and_the_request_id(
    server: str,
    hello_app: Path,
    start_server: Callable[..., Server],
    free_port: Callable[[], int],
    wait_until: Callable[[Callable[[], bool], str], None],
) -> None:
    served = _serve(start_server, free_port, server, "--log-format", "json")
    response = served.get("/boom", headers={"X-Request-ID": "trace-7"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-7"
    assert response.json()["request_id"] == "trace-7"
    wait_until(lambda: "kaboom" in served.log, "the error to be logged")
    lines = _json_lines(served.log)
    errors = [line for line in lines if line["logger"] == "nightowl.error"]
    assert len(errors) == 1, served.log
    assert errors[0]["level"] == "ERROR"
    assert errors[0]["request_id"] == "trace-7"
    assert errors[0]["time"].endswith("Z")
    assert "RuntimeError: kaboom" in errors[0]["exception"]
    if server == "uvicorn":
        access = [line for line in lines if line["logger"] == "uvicorn.access"]
        assert any(line["request_id"] == "trace-7" for line in access), access


def test_text_lines_carry_level_and_request_id(
    hello_app: Path,
    start_server: Callable[..., Server],
    free_port: Callable[[], int],
    wait_until: Callable[[Callable[[], bool], str], None],
) -> None:
    served = _serve(start_server, free_port, "uvicorn")
    served.get("/boom", headers={"X-Request-ID": "trace-8"})
    wait_until(lambda: "kaboom" in served.log, "the error to be logged")
    assert " ERROR nightowl.error [trace-8] Unhandled exception in handler for GET /boom" in (
        served.log
    )


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_a_logging_config_file_replaces_nightowls(
    server: str,
    hello_app: Path,
    start_server: Callable[..., Server],
    free_port: Callable[[], int],
    wait_until: Callable[[Callable[[], bool], str], None],
) -> None:
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"ids": {"()": "nightowl._logging.RequestIdFilter"}},
        "formatters": {"mine": {"format": "MINE %(levelname)s %(request_id)s %(message)s"}},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "formatter": "mine",
                "filters": ["ids"],
            }
        },
        "loggers": {"nightowl": {"handlers": ["out"], "level": "INFO", "propagate": False}},
    }
    path = hello_app.parent / "logging.json"
    path.write_text(json.dumps(config))
    served = _serve(start_server, free_port, server, "--log-config", str(path))
    served.get("/boom", headers={"X-Request-ID": "trace-9"})
    wait_until(lambda: "kaboom" in served.log, "the error to be logged")
    assert "MINE ERROR trace-9 Unhandled exception in handler for GET /boom" in served.log


def test_a_granian_logging_config_must_be_json(
    hello_app: Path,
    tmp_path: Path,
    start_server: Callable[..., Server],
    free_port: Callable[[], int],
) -> None:
    if importlib.util.find_spec("granian") is None:
        pytest.skip("granian is not installed")
    path = tmp_path / "logging.ini"
    path.write_text("[loggers]\nkeys=root\n")
    port = free_port()
    args = [str(BIN / "nightowl"), "serve", "app:app", "--server", "granian", "--port", str(port)]
    server = start_server([*args, "--log-config", str(path)], port=port)
    assert server.proc.wait(timeout=30) != 0
    assert "must be a JSON file" in server.log


PROXIED_APP = """
from nightowl import App

app = App(trusted_proxies=["127.0.0.1"])


@app.get("/")
def home():
    return {"ok": True}
"""


def test_the_access_log_names_the_client_behind_a_trusted_proxy(
    tmp_path: Path,
    start_server: Callable[..., Server],
    free_port: Callable[[], int],
    wait_until: Callable[[Callable[[], bool], str], None],
) -> None:
    (tmp_path / "app.py").write_text(PROXIED_APP)
    served = _serve(start_server, free_port, "uvicorn", "--log-format", "json")
    served.get("/", headers={"X-Forwarded-For": "203.0.113.5", "X-Request-ID": "via-proxy"})
    wait_until(lambda: "via-proxy" in served.log, "the access line")
    access = [
        line
        for line in _json_lines(served.log)
        if line["logger"] == "uvicorn.access" and line["request_id"] == "via-proxy"
    ]
    assert len(access) == 1, served.log
    assert access[0]["message"].startswith("203.0.113.5:0 - ")
