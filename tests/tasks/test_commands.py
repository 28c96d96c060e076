"""``nightowl worker``: what it says when it cannot run (running workers are tested with
each backend, in test_postgres.py and test_redis.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.tasks.conftest import NIGHTOWL


def worker(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in ("NIGHTOWL_APP", "TASKS_URL")}
    return subprocess.run(
        [NIGHTOWL, "worker", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_app_without_tasks_is_told_how_to_add_them(tmp_path: Path) -> None:
    result = worker(tmp_path, "from nightowl import App\napp = App()\n")
    assert result.returncode == 1
    assert "The app has no task queue: give it one with App(tasks=" in result.stderr


def test_the_in_process_backend_has_no_workers(tmp_path: Path) -> None:
    result = worker(tmp_path, "from nightowl import App\napp = App(tasks='memory')\n")
    assert result.returncode == 1
    assert "runs jobs inside the app's own processes, so it has no workers" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_worker_options_are_errors(tmp_path: Path) -> None:
    result = worker(tmp_path, "from nightowl import App\napp = App(tasks='memory')\n", "-c", "0")
    assert result.returncode == 1
    assert "A worker needs a concurrency of at least 1." in result.stderr
    result = worker(tmp_path, "from nightowl import App\napp = App()\n", "--nope")
    assert result.returncode == 2
    assert "No such option '--nope'" in result.stderr
