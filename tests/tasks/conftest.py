"""Fixtures of the task tests: a PostgreSQL database of their own, Redis, and worker
processes (``nightowl worker``) started for a test and always stopped after it.

The Redis tests share one Redis database with whatever else runs on the machine (another
run of this suite, say), so none of them empties it: each test's queues carry a prefix
of its own (``?prefix=`` of the task URL), and the test deletes only those keys."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.databases import PG_SERVER, _scratch_database
from tests.redis_server import skip_without_redis

NIGHTOWL = str(Path(sys.executable).parent / "nightowl")
ROOT = Path(__file__).parents[2]
#: What this run's queue names start with in Redis: the run's own.
RUN_PREFIX = f"nightowl-test-{uuid.uuid4().hex[:12]}-"
#: The Redis database of the task tests (shared: nothing here empties it).
TASKS_REDIS = "redis://127.0.0.1:6379/13"
_test_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def tasks_postgres() -> Iterator[str]:
    """A PostgreSQL database for one test module's jobs and rows (plain ``postgresql://``)."""
    for url in _scratch_database(PG_SERVER, "test", 5432, "PostgreSQL"):
        yield url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A task URL on the tests' Redis whose queues are this test's alone (a prefix of its
    own), their keys deleted after it; or a skip."""
    skip_without_redis()
    prefix = f"{RUN_PREFIX}{next(_test_numbers)}-"
    yield f"{TASKS_REDIS}?prefix={prefix}"
    delete_queues(prefix)


def delete_queues(prefix: str) -> int:
    """Delete the keys of the SAQ queues whose names start with ``prefix``; how many."""
    import redis

    client = redis.Redis.from_url(TASKS_REDIS)
    try:
        deleted = 0
        for pattern in (f"saq:{prefix}*", f"saq:job:{prefix}*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                deleted += int(client.delete(*keys))
        return deleted
    finally:
        client.close()


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
