"""The development server: ``python app.py`` (``app.run()``) and ``nightowl run``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Each test starts a server process and waits for it (and for reloads).
pytestmark = pytest.mark.slow

StartServer = Callable[..., Any]
FreePort = Callable[[], int]
WaitUntil = Callable[[Callable[[], bool], str], None]

BIN = Path(sys.executable).parent
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"
NIGHTOWL = str(BIN / "nightowl")


def _write_script(folder: Path, source: str, run_call: str) -> Path:
    path = folder / "app.py"
    path.write_text(source + f'\n\nif __name__ == "__main__":\n    {run_call}\n')
    return path


def test_python_app_py_serves_on_port_env(
    tmp_path: Path, start_server: StartServer, free_port: FreePort, hello_source: str
) -> None:
    script = _write_script(tmp_path, hello_source, "app.run()")
    port = free_port()
    server = start_server([sys.executable, str(script)], port=port, env={"PORT": str(port)})

    response = server.wait_ready()
    assert response.json() == {"message": "hello world"}
    assert server.get("/users/7").json() == {"user_id": 7}
    assert server.get("/users/abc").status_code == 422
    boom = server.get("/boom")
    assert boom.status_code == 500
    assert boom.headers["content-type"].startswith("application/problem+json")
    assert "kaboom" not in boom.text  # no internals without debug
    assert "reloader" not in server.log


def test_python_app_py_with_debug_reloads_on_change(
    tmp_path: Path,
    start_server: StartServer,
    free_port: FreePort,
    wait_until: WaitUntil,
    hello_source: str,
) -> None:
    script = _write_script(tmp_path, hello_source, "app.run(debug=True)")
    port = free_port()
    server = start_server([sys.executable, str(script)], port=port, env={"PORT": str(port)})

    assert server.wait_ready().json() == {"message": "hello world"}
    assert "Started reloader process" in server.log
    boom = server.get("/boom")  # debug reaches the app imported by the reloaded server
    assert boom.status_code == 500
    assert "kaboom" in boom.text

    edited = script.read_text().replace("hello world", "hello again")
    script.write_text(edited)
    polls = 0

    def changed() -> bool:
        nonlocal polls
        polls += 1
        try:
            body: object = server.get("/").json()
        except Exception:  # the server is restarting
            return False
        if body != {"message": "hello again"} and polls % 40 == 0:
            # The reloader's file watcher starts a moment after the server: on a busy
            # machine the first edit can land before it watches. Edit again.
            script.write_text(edited)
        return body == {"message": "hello again"}

    wait_until(changed, "the server to reload the edited app")


def test_app_run_without_a_global_app_warns_and_serves_without_reload(
    tmp_path: Path, start_server: StartServer, free_port: FreePort
) -> None:
    script = tmp_path / "factory_app.py"
    script.write_text(
        "from nightowl import App\n\n\n"
        "def main():\n"
        "    app = App()\n"
        "    app.get('/')(lambda: {'ok': True})\n"
        "    app.run(debug=True)\n\n\n"
        'if __name__ == "__main__":\n    main()\n'
    )
    port = free_port()
    server = start_server([sys.executable, str(script)], port=port, env={"PORT": str(port)})

    assert server.wait_ready().json() == {"ok": True}
    assert "serves without reloading" in server.log
    assert "reloader" not in server.log


def test_hello_example_runs_as_documented(
    tmp_path: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server([sys.executable, str(EXAMPLE)], port=port, env={"PORT": str(port)})

    assert server.wait_ready().json() == {"message": "hello world"}
    assert server.get("/users/42").json() == {"user_id": 42}
    invalid = server.get("/users/abc")
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["path", "user_id"]


def test_nightowl_run_without_reload(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server(
        [NIGHTOWL, "run", "app:app", "--port", str(port), "--no-reload"], port=port
    )

    assert server.wait_ready().json() == {"message": "hello world"}
    assert server.get("/users/abc").status_code == 422
    assert "reloader" not in server.log


def test_nightowl_run_finds_app_py_and_reloads_by_default(
    hello_app: Path, start_server: StartServer, free_port: FreePort
) -> None:
    port = free_port()
    server = start_server([NIGHTOWL, "run", "--debug"], port=port, env={"PORT": str(port)})

    assert server.wait_ready().json() == {"message": "hello world"}
    assert "Started reloader process" in server.log
    assert "kaboom" in server.get("/boom").text


def test_app_run_with_workers_takes_the_import_string(
    tmp_path: Path, start_server: StartServer, free_port: FreePort, hello_source: str
) -> None:
    script = _write_script(tmp_path, hello_source, 'app.run("app:app", workers=2, debug=True)')
    port = free_port()
    server = start_server([sys.executable, str(script)], port=port, env={"PORT": str(port)})

    assert server.wait_ready().json() == {"message": "hello world"}
    assert "Started parent process" in server.log  # uvicorn with worker processes
    assert "reloader" not in server.log  # several workers do not reload


def test_app_run_with_workers_and_no_import_string_explains(tmp_path: Path) -> None:
    import subprocess

    script = tmp_path / "app.py"
    script.write_text(
        "from nightowl import App\n\n"
        "def main():\n"
        "    app = App()\n"
        "    app.run(workers=2)\n\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 1
    assert "app.run(workers=2) starts worker processes" in result.stderr
    assert "`nightowl serve app:app --workers 2`" in result.stderr
    assert 'app.run("app:app", workers=2)' in result.stderr
