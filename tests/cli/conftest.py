"""Run the real ``nightowl`` script in a folder of small app files written by the test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

NIGHTOWL = str(Path(sys.executable).parent / "nightowl")


@pytest.fixture
def nightowl(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``nightowl(*args, env=..., cwd=...)`` runs the CLI in ``tmp_path`` and returns its result."""

    def run(
        *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if k not in ("NIGHTOWL_APP", "PORT")}
        full_env.update(env or {})
        return subprocess.run(
            [NIGHTOWL, *args],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write("app.py", source)`` creates a file (and its folders) under ``tmp_path``."""

    def write_file(name: str, source: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        return path

    return write_file
