"""Start real servers on 127.0.0.1 in subprocesses, wait until they answer, always stop them.

These tests are about the server processes themselves (workers, reloading, signals), so
they run ``nightowl run``, ``nightowl serve`` and ``uvicorn`` as commands; tests that only
need an app behind a real server use :func:`tests.live.live_server` instead.

Everything is offered as fixtures: test modules do not import this file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

BIN = Path(sys.executable).parent
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

HELLO_APP = """
import asyncio
import os
from pathlib import Path

from nightowl import App, EventSourceResponse, Request, WebSocket
from nightowl.exceptions import WebSocketDisconnect

app = App()


@app.on_startup
def record_worker():
    marks = os.environ.get("MARK_DIR")
    if marks:
        Path(marks, f"worker-{os.getpid()}").touch()


@app.get("/")
def hello():
    return {"message": "hello world"}


@app.get("/users/{user_id}")
def get_user(user_id: int):
    return {"user_id": user_id}


@app.get("/pid")
def pid():
    return {"pid": os.getpid()}


@app.get("/client")
def client(request: Request):
    return {"host": request.client[0] if request.client else None, "scheme": request.url.scheme}


@app.get("/boom")
def boom():
    raise RuntimeError("kaboom")


@app.get("/boom/{what}")
def boom_what(what: str):
    raise RuntimeError("kaboom")


@app.websocket("/ws/boom/{what}")
async def ws_boom(ws: WebSocket, what: str):
    await ws.accept()
    raise RuntimeError("kaboom")


@app.websocket("/ws/flood")
async def ws_flood(ws: WebSocket):
    await ws.accept()
    await ws.receive_text()
    try:
        while True:
            await ws.send_text("x" * 4096)
            await asyncio.sleep(0)
    except WebSocketDisconnect:
        Path(os.environ["MARK_DIR"], "flood-disconnected").touch()
        raise


@app.get("/sse")
async def sse():
    async def ticks():
        n = 0
        while True:
            n += 1
            yield {"n": n}
            await asyncio.sleep(0.2)

    return EventSourceResponse(ticks())


@app.websocket("/ws/echo")
async def ws_echo(ws: WebSocket):
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)


@app.get("/slow")
async def slow():
    Path(os.environ["MARK_DIR"], "slow-started").touch()
    await asyncio.sleep(1.5)
    return {"slept": True}
"""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 50 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f}s waiting for {what}.")
        time.sleep(0.05)


class Server:
    """A server subprocess in its own process group, its output going to a log file."""

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path,
        port: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.kind = ""  # what serves: "uvicorn-h11", "granian"... when a fixture says
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = cwd / f"server-{port}.log"
        full_env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PORT", "NIGHTOWL_APP", "WEB_CONCURRENCY")
        }
        full_env.update({"PYTHONUNBUFFERED": "1", "MARK_DIR": str(cwd)})
        full_env.update(env or {})
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: workers and reloaders die with it
        )

    @property
    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, path: str = "/", timeout: float = READY_TIMEOUT) -> httpx.Response:
        """Poll ``path`` until the server answers; fail (with its log) if it exits or hangs."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"The server exited with {self.proc.returncode}:\n{self.log}")
            try:
                return httpx.get(self.url + path, timeout=2.0)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"The server did not answer within {timeout:.0f}s:\n{self.log}")
                time.sleep(0.05)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """A GET request to the server on a fresh connection."""
        return httpx.get(self.url + path, headers=headers, timeout=10.0)

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM the server process alone and wait for it to exit; its exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL if anything lingers."""
        try:
            _signal_group(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT)
            # Workers and reloaded servers may outlive the process we started.
            if not _group_gone(self.proc.pid, STOP_TIMEOUT):
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=STOP_TIMEOUT)
        finally:
            self._log.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start a server with ``start_server(args, port=..., env=...)``; all are stopped after."""
    servers: list[Server] = []

    def start(args: Sequence[str], *, port: int, env: Mapping[str, str] | None = None) -> Server:
        server = Server(args, tmp_path, port, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def hello_app(tmp_path: Path) -> Path:
    """``app.py`` in ``tmp_path`` (the test's current folder for servers)."""
    path = tmp_path / "app.py"
    path.write_text(HELLO_APP)
    return path


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """``free_port()``: a TCP port that was free on 127.0.0.1 a moment ago."""
    return free_port


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[[Callable[[], bool], str], None]:
    """``wait_until(condition, what)``: poll until ``condition()`` holds, for at most 20 s."""

    def wait(condition: Callable[[], bool], what: str) -> None:
        wait_until(condition, READY_TIMEOUT, what)

    return wait


@pytest.fixture
def hello_source() -> str:
    """The source of the test app (without a ``__main__`` block)."""
    return HELLO_APP


SERVE_SCRIPT = """
import sys

from nightowl._server import serve

serve("app:app", port=int(sys.argv[1]), server=sys.argv[2], http=sys.argv[3], log_level="warning")
"""


@pytest.fixture(scope="module", params=["uvicorn-h11", "uvicorn-httptools", "granian"])
def launched(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The hello app served as ``nightowl serve`` serves it, on uvicorn with h11 (a base
    install), uvicorn with httptools, and granian; one server per module and kind."""
    kind: str = request.param
    server_name, _, http = kind.partition("-")
    if server_name == "granian" and importlib.util.find_spec("granian") is None:
        pytest.skip("granian is not installed")
    if http == "httptools" and importlib.util.find_spec("httptools") is None:
        pytest.skip("httptools is not installed")
    folder = tmp_path_factory.mktemp(kind)
    (folder / "app.py").write_text(HELLO_APP)
    (folder / "serve.py").write_text(SERVE_SCRIPT)
    port = free_port()
    if server_name == "granian":
        args = [
            str(BIN / "nightowl"),
            "serve",
            "app:app",
            "--server",
            "granian",
            "--port",
            str(port),
        ]
    else:
        args = [sys.executable, "serve.py", str(port), server_name, http]
    server = Server(args, folder, port)
    server.kind = kind
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
