"""Forged log lines: what a request carries is escaped in every line nightowl logs, under
each server nightowl launches (uvicorn with h11, uvicorn with httptools, granian)."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import pytest

pytestmark = pytest.mark.slow

Server = Any
FORGED = "x%0d%0aFORGED%20admin%20logged%20in%1b[2J"


def _forged_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("FORGED")]


def _get(server: Server, path: str) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
        return received


def test_a_path_with_crlf_cannot_forge_an_error_log_line(launched: Server, wait_until: Any) -> None:
    answer = _get(launched, "/boom/" + FORGED)
    assert answer.startswith(b"HTTP/1.1 500"), answer[:100]
    wait_until(lambda: "kaboom" in launched.log, "the error to be logged")
    log = launched.log
    assert _forged_lines(log) == []
    assert "\x1b" not in log
    assert "/boom/x\\r\\nFORGED admin logged in\\x1b[2J" in log


def test_a_websocket_path_with_crlf_cannot_forge_an_error_log_line(
    launched: Server, wait_until: Any
) -> None:
    connect = pytest.importorskip("websockets.sync.client").connect
    url = f"ws://127.0.0.1:{launched.port}/ws/boom/{FORGED}"
    with contextlib.suppress(Exception), connect(url, open_timeout=10) as ws:
        ws.recv(timeout=10)
    wait_until(lambda: "WebSocket handler" in launched.log, "the WebSocket error to be logged")
    log = launched.log
    assert _forged_lines(log) == []
    assert "/ws/boom/x\\r\\nFORGED admin logged in" in log
