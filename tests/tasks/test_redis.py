"""The Redis backend (SAQ), with real ``nightowl worker`` processes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks import JobFailed, JobStatus
from nightowl.tasks.backends.redis import RedisBackend
from nightowl.testing import TestClient
from tests.live import live_client
from tests.tasks.conftest import TASKS_REDIS, Worker, delete_queues, rows, wait_until
from tests.tasks.workapp import create_app, flaky_mark, mark, metadata

MEMORY = "sqlite:///:memory:"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A SQLite file holding ``task_marks``, shared by the app and its workers."""
    url = f"sqlite:///{tmp_path / 'marks.db'}"
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    yield url


@pytest.mark.slow
def test_workers_run_committed_jobs_only_and_return_results(
    database: str, redis_url: str, start_worker: Callable[..., Worker]
) -> None:
    # No sweeps after the start (see test_failed_runs_are_retried_then_fail_for_good).
    start_worker(
        database, redis_url, "--concurrency", "1", "--heartbeat", "300", "--stalled-after", "600"
    )
    app = create_app(database, redis_url)
    with live_client(app) as client:
        assert client.post("/orders/rolled-back", params={"fail": True}).status_code == 409
        assert client.post("/orders/committed").status_code == 200
    wait_until(lambda: ("committed", "done") in rows(database), "the committed job to run")
    assert rows(database) == [("committed", "order"), ("committed", "done")]

    async def main() -> tuple[object, JobStatus]:
        async with app.lifespan_context():
            job = await mark.enqueue("direct")
            return await job.result(timeout=30), await job.status()

    assert asyncio.run(main()) == ("DIRECT", JobStatus.SUCCEEDED)


@pytest.mark.slow
def test_failed_runs_are_retried_then_fail_for_good(
    database: str, redis_url: str, start_worker: Callable[..., Worker]
) -> None:
    # Sweeps (which look for the jobs of dead workers) only at the start: one that looks
    # at a job in the instant a worker takes it queues it again, and runs would be miscounted.
    start_worker(database, redis_url, "--heartbeat", "300", "--stalled-after", "600")
    app = create_app(database, redis_url)

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


@pytest.mark.slow
def test_a_job_whose_worker_is_killed_runs_again_on_another(
    database: str, redis_url: str, start_worker: Callable[..., Worker]
) -> None:
    options = ("--heartbeat", "1", "--stalled-after", "3")
    first = start_worker(database, redis_url, *options)
    app = create_app(database, redis_url)
    with live_client(app) as client:
        assert client.post("/slow/resilient", params={"seconds": 60}).status_code == 200
    wait_until(lambda: ("resilient", "start") in rows(database), "the first worker to start it")
    first.kill()
    start_worker(database, redis_url, *options)
    wait_until(
        lambda: ("resilient", "done") in rows(database), "another worker to finish it", timeout=90
    )
    assert rows(database) == [("resilient", "start"), ("resilient", "start"), ("resilient", "done")]


def test_the_backend_is_chosen_by_url(redis_url: str) -> None:
    app = create_app("sqlite:///:memory:", redis_url)
    assert isinstance(app.state.tasks.backend, RedisBackend)
    with TestClient(app) as client:
        job = client.run(mark.options(delay=300).enqueue("later"))
        assert client.run(job.status()) is JobStatus.QUEUED
        assert job.id is not None and job.id.startswith("default/")


def test_apps_with_prefixes_of_their_own_never_see_each_others_jobs(redis_url: str) -> None:
    prefix = redis_url.partition("?prefix=")[2]
    neighbour_url = redis_url + "neighbour-"
    mine = create_app(MEMORY, redis_url)
    assert mine.state.tasks.backend.prefix == prefix
    assert mine.state.tasks.backend.url == TASKS_REDIS
    with TestClient(mine) as client:
        job = client.run(mark.options(delay=300).enqueue("mine"))
        assert job.id is not None and job.id.startswith("default/")  # ids keep the queue name
    # Outside a request, tasks enqueue on the app made last: the neighbour comes second.
    neighbour = create_app(MEMORY, neighbour_url)
    with TestClient(neighbour) as other:
        assert other.run(neighbour.state.tasks.backend.list_jobs()) == []
        assert other.run(neighbour.state.tasks.backend.cancel_job(job.id)) is False
    with TestClient(mine) as client:
        listed = client.run(mine.state.tasks.backend.list_jobs())
        assert [info.id for info in listed] == [job.id]
        assert client.run(job.status()) is JobStatus.QUEUED
    assert delete_queues(prefix + "neighbour-") == 0  # the neighbour wrote nothing
    assert delete_queues(prefix) > 0  # this test's keys, deleted (the fixture finds none)


@pytest.mark.parametrize(
    "url", ["redis://h/0?prefix=", "redis://h/0?prefix=a*", "redis://h/0?prefix=a&prefix=b"]
)
def test_a_bad_prefix_is_a_clear_error(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"\?prefix=shop-"):
        RedisBackend(url)


def test_the_prefix_leaves_the_rest_of_the_url() -> None:
    backend = RedisBackend("redis://h:6380/2?socket_timeout=5&prefix=shop-")
    assert (backend.url, backend.prefix) == ("redis://h:6380/2?socket_timeout=5", "shop-")
    assert RedisBackend("redis://h/0", prefix="app-").prefix == "app-"
    assert RedisBackend("redis://h/0?prefix=url-", prefix="app-").prefix == "url-"
