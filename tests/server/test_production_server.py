"""The production server: ``nightowl serve`` under uvicorn and granian, and plain uvicorn."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

StartServer = Callable[..., Any]
FreePort = Callable[[], int]
WaitUntil = Callable[[Callable[[], bool], str], None]

BIN = Path(sys.executable).parent
NIGHTOWL = str(BIN / "nightowl")
READY_TIMEOUT = 20.0
# Each test starts server processes, most of them with workers, and stops them.
pytestmark = pytest.mark.slow

HAS_GRANIAN = importlib.util.find_spec("granian") is not None
needs_granian = pytest.mark.skipif(not HAS_GRANIAN, reason="granian is not installed")

RAW_ASGI_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"raw asgi"})
"""

FACTORY_APP = """
from nightowl import App


def create_app():
    app = App()
    app.get("/")(lambda: {"made_by": "factory"})
    return app
"""


def _serve(port: int, *options: str, app: str = "app:app") -> list[str]:
    return [NIGHTOWL, "serve", app, "--port", str(port), *options]


def _workers(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("worker-*")}


def test_uvicorn_serves_the_app(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server([str(BIN / "uvicorn"), "app:app", "--port", str(port)], port=port)

    assert server.wait_ready().json() == {"message": "hello world"}
    assert server.get("/users/abc").status_code == 422


def test_serve_with_two_workers(
    hello_app: Path,
    tmp_path: Path,
    start_server: StartServer,
    free_port: FreePort,
    wait_until: WaitUntil,
) -> None:
    port = free_port()
    server = start_server(_serve(port, "--workers", "2"), port=port)

    assert server.wait_ready().json() == {"message": "hello world"}
    wait_until(lambda: len(_workers(tmp_path)) == 2, "both workers to start")
    responses = [server.get("/pid") for _ in range(10)]
    assert all(response.status_code == 200 for response in responses)
    pids = {f"worker-{response.json()['pid']}" for response in responses}
    assert pids <= _workers(tmp_path)


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_flight_finish(
    hello_app: Path,
    tmp_path: Path,
    start_server: StartServer,
    free_port: FreePort,
    workers: int,
    wait_until: WaitUntil,
) -> None:
    port = free_port()
    server = start_server(_serve(port, "--workers", str(workers)), port=port)
    server.wait_ready()
    wait_until(lambda: len(_workers(tmp_path)) == workers, "the workers to start")

    with ThreadPoolExecutor(max_workers=1) as pool:
        in_flight = pool.submit(server.get, "/slow")
        wait_until(lambda: (tmp_path / "slow-started").exists(), "the slow request")
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert server.terminate() in (0, -signal.SIGTERM), server.log
        response = in_flight.result(timeout=READY_TIMEOUT)

    assert response.status_code == 200
    assert response.json() == {"slept": True}


def test_proxy_headers_are_only_trusted_when_asked(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    plain_port, proxied_port = free_port(), free_port()
    plain = start_server(_serve(plain_port), port=plain_port)
    proxied = start_server(_serve(proxied_port, "--proxy-headers"), port=proxied_port)
    plain.wait_ready()
    proxied.wait_ready()

    assert plain.get("/client", headers=forwarded).json() == {
        "host": "127.0.0.1",
        "scheme": "http",
    }
    assert proxied.get("/client", headers=forwarded).json() == {
        "host": "203.0.113.7",
        "scheme": "https",
    }


def test_serve_any_asgi_callable(
    tmp_path: Path, start_server: StartServer, free_port: FreePort
) -> None:
    (tmp_path / "raw.py").write_text(RAW_ASGI_APP)
    port = free_port()
    server = start_server(_serve(port, app="raw:app"), port=port)

    response = server.wait_ready()
    assert response.status_code == 200
    assert response.text == "raw asgi"


def test_serve_a_factory_with_workers(
    tmp_path: Path, start_server: StartServer, free_port: FreePort
) -> None:
    (tmp_path / "factory.py").write_text(FACTORY_APP)
    port = free_port()
    server = start_server(_serve(port, "--workers", "2", app="factory:create_app()"), port=port)

    assert server.wait_ready().json() == {"made_by": "factory"}


@needs_granian
def test_serve_with_granian(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server(_serve(port, "--server", "granian"), port=port)

    assert server.wait_ready().json() == {"message": "hello world"}
    assert server.get("/users/5").json() == {"user_id": 5}
    assert server.get("/users/abc").status_code == 422


@needs_granian
def test_granian_with_workers_and_proxy_headers(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server(
        _serve(port, "--server", "granian", "--workers", "2", "--proxy-headers"), port=port
    )
    server.wait_ready()

    response = server.get("/client", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.json()["host"] == "203.0.113.7"


def test_missing_granian_is_a_clear_error(hello_app: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['granian'] = None  # as if it were not installed\n"
        "from nightowl.cli import main\n"
        "main(['serve', 'app:app', '--server', 'granian', '--port', '0'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "granian server is not installed" in result.stderr
    assert "pip install" in result.stderr
    assert "Traceback" not in result.stderr
