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


RELAY_APP = """
from nightowl import App, WebSocket
from nightowl.channels import Channels

app = App(channels="memory://", sessions=False)


@app.websocket("/relay")
async def relay(ws: WebSocket, channels: Channels):
    await channels.forward(ws, "room", welcome={"offered": "nightowl.broadcast" in ws.scope["extensions"]})


@app.post("/publish/{count}", status_code=204)
async def publish(count: int, channels: Channels):
    for n in range(count):
        await channels.publish("room", n)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "compression", "offered"),
    [((), "deflate", True), (("--ws-per-message-deflate",), "deflate", False)],
    ids=["uncompressed", "compressed"],
)
def test_serve_writes_channel_messages_directly_on_uncompressed_connections(
    tmp_path: Path,
    start_server: StartServer,
    free_port: FreePort,
    options: tuple[str, ...],
    compression: str,
    offered: bool,
) -> None:
    import httpx

    connect = pytest.importorskip("websockets.sync.client").connect
    (tmp_path / "relay.py").write_text(RELAY_APP)
    port = free_port()
    server = start_server(
        [NIGHTOWL, "serve", "relay:app", "--port", str(port), *options], port=port
    )
    server.wait_ready("/missing")
    with connect(f"ws://127.0.0.1:{port}/relay", compression=compression) as ws:
        assert ws.recv(timeout=10) == f'{{"offered":{str(offered).lower()}}}'
        assert httpx.post(f"http://127.0.0.1:{port}/publish/100").status_code == 204
        assert [ws.recv(timeout=10) for _ in range(100)] == [str(n) for n in range(100)]
