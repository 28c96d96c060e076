"""SIGTERM with an SSE stream and a WebSocket open: the stream ends cleanly, the socket
is closed with 1001, and the server exits promptly, under every server nightowl launches."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

Server = Any


def test_sigterm_ends_sse_streams_and_closes_websockets_with_1001(
    launched: Server, wait_until: Any
) -> None:
    connect = pytest.importorskip("websockets.sync.client").connect
    closed = pytest.importorskip("websockets.exceptions").ConnectionClosed
    outcome: dict[str, Any] = {}

    def read_stream() -> None:
        events = 0
        try:
            with httpx.stream("GET", launched.url + "/sse", timeout=30) as response:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        events += 1
                        outcome["sse_started"] = True
            outcome["sse"] = ("ended cleanly", events)
        except httpx.HTTPError as exc:
            outcome["sse"] = (f"cut: {type(exc).__name__}", events)

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    with connect(f"ws://127.0.0.1:{launched.port}/ws/echo", open_timeout=10) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        wait_until(lambda: outcome.get("sse_started", False), "the SSE stream to start")
        started = time.monotonic()
        launched.terminate(timeout=25)
        took = time.monotonic() - started
        with pytest.raises(closed):  # the server closes the socket
            ws.recv(timeout=10)
        close_code = ws.close_code
    reader.join(timeout=10)
    assert took < 5, f"shutdown took {took:.1f}s:\n{launched.log}"
    assert outcome["sse"][0] == "ended cleanly", (outcome, launched.log)
    assert outcome["sse"][1] >= 1
    assert close_code == 1001, launched.log
