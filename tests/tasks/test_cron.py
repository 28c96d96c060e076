"""Cron schedules run by real ``nightowl worker`` processes, on both engines:
procrastinate's periodic tasks on PostgreSQL, SAQ's cron jobs on Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from nightowl.tasks._queue import backend_from
from tests.tasks.conftest import Worker, rows, wait_until
from tests.tasks.workapp import metadata

CRON_APP = "tests.tasks.cronapp:app"


def prepare(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(database, tasks)`` URLs for ``engine``, with an empty ``task_marks`` table."""
    if engine == "postgresql":
        database: str = request.getfixturevalue("tasks_postgres")
        tasks = database
    else:
        database, tasks = f"sqlite:///{tmp_path / 'marks.db'}", request.getfixturevalue("redis_url")
    sql = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    metadata.create_all(sql)
    with sql.begin() as connection:
        connection.execute(text("DELETE FROM task_marks"))
    sql.dispose()
    return database, tasks


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql", "redis"])
def test_a_worker_process_runs_cron_tasks_on_their_schedule(
    engine: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_worker: Callable[..., Worker],
) -> None:
    database, tasks = prepare(engine, request, tmp_path)
    worker = start_worker(database, tasks, app=CRON_APP)
    wait_until(lambda: rows(database).count(("tick", "done")) >= 3, "three scheduled runs of tick")
    # A scheduled run longer than SAQ's default job timeout (10 s) is not cut short.
    wait_until(
        lambda: ("long", "done") in rows(database), "the long scheduled run to end", timeout=60
    )
    # A failed scheduled run is retried as the task says (retries=1): two runs.
    assert asyncio.run(most_runs(tasks, "tests.tasks.cronapp.failing_tick")) == 2
    assert worker.proc.poll() is None, worker.log


async def most_runs(tasks: str, task_name: str, timeout: float = 30.0) -> int:
    """The most runs a job of ``task_name`` has had, once one had more than one."""
    backend = backend_from(tasks)
    await backend.open()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = await backend.list_jobs(limit=1000)
            runs = max((job.runs for job in jobs if job.task_name == task_name), default=0)
            if runs > 1:
                return runs
            await asyncio.sleep(0.05)
        return 1
    finally:
        await backend.close()
