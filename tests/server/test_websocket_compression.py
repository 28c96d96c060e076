"""``nightowl serve`` turns WebSocket compression (permessage-deflate) off unless asked."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nightowl._server import serve
from nightowl.exceptions import ImproperlyConfigured

StartServer = Callable[..., Any]
FreePort = Callable[[], int]

NIGHTOWL = str(Path(sys.executable).parent / "nightowl")


def _negotiated_extensions(port: int) -> str | None:
    """What the server answers to a client offering permessage-deflate, as browsers do;
    the echo route still echoes."""
    connect = pytest.importorskip("websockets.sync.client").connect
    with connect(f"ws://127.0.0.1:{port}/ws/echo", compression="deflate") as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        extensions: str | None = ws.response.headers.get("Sec-WebSocket-Extensions")
        return extensions


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "compressed"),
    [((), False), (("--no-ws-per-message-deflate",), False), (("--ws-per-message-deflate",), True)],
    ids=["default", "off", "on"],
)
def test_serve_compresses_websocket_messages_only_when_asked(
    hello_app: Path,
    start_server: StartServer,
    free_port: FreePort,
    options: tuple[str, ...],
    compressed: bool,
) -> None:
    port = free_port()
    server = start_server([NIGHTOWL, "serve", "app:app", "--port", str(port), *options], port=port)
    server.wait_ready()
    extensions = _negotiated_extensions(port)
    if compressed:
        assert extensions is not None and "permessage-deflate" in extensions
    else:
        assert extensions is None


def test_granian_cannot_compress_websocket_messages(hello_app: Path) -> None:
    result = subprocess.run(
        [NIGHTOWL, "serve", "app:app", "--server", "granian", "--ws-per-message-deflate"],
        cwd=hello_app.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "granian does not compress WebSocket messages" in result.stderr


def test_serve_refuses_compression_under_granian() -> None:
    with pytest.raises(ImproperlyConfigured, match="serve with uvicorn to turn it on"):
        serve("app:app", server="granian", ws_per_message_deflate=True)
