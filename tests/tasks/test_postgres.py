"""The PostgreSQL backend (procrastinate), with real ``nightowl worker`` processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from nightowl.tasks import JobFailed, JobStatus, Tasks
from nightowl.tasks.backends.postgres import PostgresBackend
from tests.live import live_client
from tests.tasks.conftest import Worker, rows, wait_until
from tests.tasks.workapp import create_app, flaky_mark, mark, metadata


@pytest.fixture
def database(tasks_postgres: str) -> Iterator[str]:
    """The module's database with empty task tables and ``task_marks``."""
    engine = create_engine(tasks_postgres.replace("postgresql://", "postgresql+psycopg://"))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM task_marks"))
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            connection.execute(text("DELETE FROM procrastinate_jobs"))
    engine.dispose()
    yield tasks_postgres


def jobs(database: str) -> list[tuple[str, str]]:
    """``(args' label, status)`` of every procrastinate job."""
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT args->>'label', status FROM procrastinate_jobs ORDER BY id")
            )
            return [(label, status) for label, status in found]
    finally:
        engine.dispose()


def test_a_job_joins_the_requests_transaction(database: str) -> None:
    app = create_app(database, database)
    with live_client(app) as client:
        assert client.post("/joined/kept").json()["job"].isdigit()
        assert client.post("/joined/dropped", params={"fail": True}).status_code == 409
        assert client.post("/orders/after-commit").status_code == 200
        assert client.post("/orders/refused", params={"fail": True}).status_code == 409
    assert jobs(database) == [("kept", "todo"), ("after-commit", "todo")]
    assert rows(database) == [("after-commit", "order")]


@pytest.mark.slow
def test_workers_run_committed_jobs_and_never_rolled_back_ones(
    database: str, start_worker: Callable[..., Worker]
) -> None:
    start_worker(database, database, "--concurrency", "1")
    app = create_app(database, database)
    with live_client(app) as client:
        assert client.post("/orders/rolled-back", params={"fail": True}).status_code == 409
        assert client.post("/joined/joined-rolled-back", params={"fail": True}).status_code == 409
        assert client.post("/orders/committed").status_code == 200
        assert client.post("/joined/joined-committed").status_code == 200
    wait_until(lambda: len(rows(database)) == 3, "the two committed jobs to run")
    assert sorted(rows(database)) == [
        ("committed", "done"),
        ("committed", "order"),
        ("joined-committed", "done"),
    ]
    assert jobs(database) == [("committed", "succeeded"), ("joined-committed", "succeeded")]


@pytest.mark.slow
def test_a_job_whose_worker_is_killed_runs_again_on_another(
    database: str, start_worker: Callable[..., Worker]
) -> None:
    options = ("--heartbeat", "0.5", "--stalled-after", "2")
    first = start_worker(database, database, *options)
    app = create_app(database, database)
    with live_client(app) as client:
        assert client.post("/slow/resilient", params={"seconds": 60}).status_code == 200
    wait_until(lambda: ("resilient", "start") in rows(database), "the first worker to start it")
    first.kill()
    start_worker(database, database, *options)
    wait_until(lambda: ("resilient", "done") in rows(database), "another worker to finish it")
    assert rows(database) == [("resilient", "start"), ("resilient", "start"), ("resilient", "done")]
    assert jobs(database) == [("resilient", "succeeded")]


@pytest.mark.slow
def test_results_and_status_through_a_worker(
    database: str, start_worker: Callable[..., Worker]
) -> None:
    start_worker(database, database)
    app = create_app(database, database)

    async def main() -> tuple[object, JobStatus]:
        async with app.lifespan_context():
            job = await mark.enqueue("through")  # outside a request: queued at once
            result = await job.result(timeout=30)
            return result, await job.status()

    assert asyncio.run(main()) == ("THROUGH", JobStatus.SUCCEEDED)


@pytest.mark.slow
def test_failed_runs_are_retried_then_fail_for_good(
    database: str, start_worker: Callable[..., Worker]
) -> None:
    start_worker(database, database)
    app = create_app(database, database)

    async def main() -> None:
        async with app.lifespan_context():
            job = await flaky_mark.enqueue("flaky", fail_times=1)
            assert await job.result(timeout=30) is None
            job = await flaky_mark.enqueue("broken", fail_times=10)
            with pytest.raises(JobFailed, match="RuntimeError: run 3 fails"):
                await job.result(timeout=30)

    asyncio.run(main())
    assert rows(database).count(("flaky", "start")) == 2
    assert rows(database).count(("broken", "start")) == 3  # the first run and two retries


def test_the_backend_is_chosen_by_url(database: str) -> None:
    backend = Tasks(database.replace("postgresql://", "postgresql+psycopg://")).backend
    assert isinstance(backend, PostgresBackend)
    assert backend.conninfo == database
