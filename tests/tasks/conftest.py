"""Fixtures of the task tests: a PostgreSQL database of their own, Redis, and worker
processes (``nightowl worker``) started for a test and always stopped after it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.databases import PG_SERVER, _reachable, _scratch_database

NIGHTOWL = str(Path(sys.executable).parent / "nightowl")
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def tasks_postgres() -> Iterator[str]:
    """A PostgreSQL database for one test module's jobs and rows (plain ``postgresql://``)."""
    for url in _scratch_database(PG_SERVER, "test", 5432, "PostgreSQL"):
        yield url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def redis_url() -> str:
    """Redis on 127.0.0.1:6379, database 13 emptied first, or a skip."""
    if not _reachable(6379):
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=13)
    client.flushdb()
    client.close()
    return "redis://127.0.0.1:6379/13"


class Worker:
    """A ``nightowl worker`` process in its own process group, logging to a file."""

    def __init__(
        self,
        args: Sequence[str],
        env: dict[str, str],
        log: Path,
        app: str = "tests.tasks.workapp:app",
    ) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [NIGHTOWL, "--app", app, "worker", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def log(self) -> str:
        """What the worker printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the worker says it runs; fail with its log if it exits first."""
        deadline = time.monotonic() + timeout
        while "Worker running" not in self.log:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"The worker did not start:\n{self.log}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the worker: no cleanup, no goodbye."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it lingers; its exit status."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            status = self.proc.wait(timeout=10)
        return status

    def close(self) -> None:
        """Stop the worker if it runs, and close its log."""
        if self.proc.poll() is None:
            self.stop()
        self._log.close()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """``start_worker(database, tasks, *args, app=...)``: a running worker of ``app``
    (:mod:`tests.tasks.workapp`'s by default); all stop after the test."""
    workers: list[Worker] = []

    def start(
        database: str, tasks: str, *args: str, app: str = "tests.tasks.workapp:app"
    ) -> Worker:
        env = {"WORKAPP_DATABASE": database, "WORKAPP_TASKS": tasks}
        worker = Worker(args, env, tmp_path / f"worker-{len(workers)}.log", app)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.close()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` when it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}")
        time.sleep(0.05)


def rows(database: str) -> list[tuple[str, str]]:
    """The ``(label, kind)`` rows of ``task_marks`` in ``database``, in order."""
    from sqlalchemy import create_engine, select

    from tests.tasks.workapp import marks

    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            found = connection.execute(select(marks.c.label, marks.c.kind).order_by(marks.c.id))
            return [(label, kind) for label, kind in found]
    finally:
        engine.dispose()
