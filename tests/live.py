"""Serve an app with a real uvicorn server on 127.0.0.1 for the duration of a test."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def live_server(app: Any, **options: Any) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread; yield its base URL; always stop it.

    The listening socket is bound before uvicorn starts, so no other process can take
    the port in between. ``options`` go to ``uvicorn.Config`` (``ws=...``, ``lifespan=...``).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options.setdefault("lifespan", "on")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


@contextlib.contextmanager
def live_client(app: Any, **options: Any) -> Iterator[httpx.Client]:
    """An httpx client talking to ``app`` served by a real uvicorn server."""
    with live_server(app, **options) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield client
