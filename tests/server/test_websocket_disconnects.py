"""A WebSocket client leaving while the handler sends: ``WebSocketDisconnect`` in the
handler, as for any other disconnect, and no crash in the log, on every server."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

Server = Any


def test_a_client_leaving_mid_send_is_a_disconnect_not_a_crash(
    launched: Server, wait_until: Any
) -> None:
    if launched.kind == "granian":
        pytest.xfail(
            "granian drops what is sent after the client left without raising; the handler "
            "learns of it on its next receive (docs/cli.md)"
        )
    connect = pytest.importorskip("websockets.sync.client").connect
    marker = Path(launched.log_path).parent / "flood-disconnected"
    marker.unlink(missing_ok=True)
    with contextlib.suppress(Exception), connect(f"ws://127.0.0.1:{launched.port}/ws/flood") as ws:
        ws.send("go")
        ws.recv(timeout=10)  # the flood has started
        ws.socket.shutdown(socket.SHUT_RDWR)  # gone, without a closing handshake
        ws.socket.close()
    wait_until(marker.exists, "the handler to see WebSocketDisconnect")
    time.sleep(0.5)  # anything logged after it would be logged by now
    assert "Traceback" not in launched.log
    assert "Unhandled exception" not in launched.log
