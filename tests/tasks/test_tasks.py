"""Tasks on the in-process backend: arguments, injection, retries, timeouts, results,
delays, cron, and jobs bound to the outcome of the request that enqueued them."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any

import pytest
from sqlalchemy import insert, select

from nightowl import App, BackgroundTasks, HTTPException
from nightowl.db import AsyncSession, Session
from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks import (
    JobFailed,
    JobStatus,
    NotQueuedYet,
    Task,
    TaskArgumentsError,
    Tasks,
    current_tasks,
    install,
    task,
)
from nightowl.tasks._binding import TaskBinding
from nightowl.tasks.backends.memory import MemoryBackend
from nightowl.testing import TestClient
from tests.tasks.workapp import marks, metadata

ran: list[object] = []


@task(retries=2, retry_delay=0.01)
async def flaky(label: str, fail_times: int = 0) -> str:
    ran.append(label)
    if ran.count(label) <= fail_times:
        raise RuntimeError(f"attempt {ran.count(label)} fails")
    return label.upper()


@task
def add(a: int, b: int = 1) -> int:
    return a + b


@task(timeout=0.05)
async def sleepy() -> None:
    await asyncio.sleep(5)


@dataclasses.dataclass
class Settings:
    greeting: str


@task
async def greet(name: str, settings: Settings, queue: Tasks) -> str:
    assert isinstance(queue, Tasks)
    return f"{settings.greeting}, {name}"


@task
async def when(at: dt.datetime, count: Annotated[int, "doc"] = 0) -> str:
    return f"{at.isoformat()} {count}"


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


def make_app(**options: Any) -> App:
    return App(tasks="memory", **options)


def test_enqueue_validates_and_runs_a_job_with_its_result() -> None:
    app = make_app()
    with TestClient(app) as client:
        job = client.run(add.enqueue(2, b="40"))
        assert client.run(job.result(timeout=5)) == 42
        assert client.run(job.status()) is JobStatus.SUCCEEDED
        with pytest.raises(TaskArgumentsError, match="valid integer"):
            client.run(add.enqueue(a="two"))
        with pytest.raises(TaskArgumentsError, match="Extra inputs"):
            client.run(add.enqueue(a=1, c=3))
        with pytest.raises(TaskArgumentsError, match="takes 2 arguments"):
            client.run(add.enqueue(1, 2, 3))
        with pytest.raises(TaskArgumentsError, match="twice"):
            client.run(add.enqueue(1, a=2))
    assert add(1) == 2  # calling a task calls the function


def test_arguments_travel_as_json_and_come_back_typed() -> None:
    moment = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
    with TestClient(make_app()) as client:
        job = client.run(when.enqueue(at=moment.isoformat(), count="3"))
        assert client.run(job.result(timeout=5)) == "2026-11-30T09:00:00+00:00 3"


def test_failed_runs_are_retried_with_backoff_then_fail_for_good() -> None:
    with TestClient(make_app()) as client:
        job = client.run(flaky.enqueue(label="twice", fail_times=2))
        assert client.run(job.result(timeout=5)) == "TWICE"
        assert ran.count("twice") == 3
        job = client.run(flaky.enqueue(label="never", fail_times=5))
        with pytest.raises(JobFailed, match="attempt 3 fails"):
            client.run(job.result(timeout=5))
        assert ran.count("never") == 3  # the first run and two retries
    assert flaky.delay_before_retry(1) == pytest.approx(0.01)
    assert flaky.delay_before_retry(3) == pytest.approx(0.04)


def test_a_run_longer_than_the_timeout_fails() -> None:
    with TestClient(make_app()) as client:
        job = client.run(sleepy.enqueue())
        with pytest.raises(JobFailed, match=r"TaskTimeout: .*sleepy ran longer than 0.05 s"):
            client.run(job.result(timeout=5))


def test_result_waits_no_longer_than_asked() -> None:
    with TestClient(make_app()) as client:
        job = client.run(add.options(delay=60).enqueue(1))
        with pytest.raises(TimeoutError, match="has not finished"):
            client.run(job.result(timeout=0.05))
        assert client.run(job.status()) is JobStatus.QUEUED


def test_a_delayed_job_runs_no_sooner_than_asked() -> None:
    with TestClient(make_app()) as client:
        started = time.monotonic()
        job = client.run(add.options(delay=dt.timedelta(seconds=0.2)).enqueue(1))
        assert client.run(job.result(timeout=5)) == 2
        assert time.monotonic() - started >= 0.2
        at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.1)
        assert client.run(client.run(add.options(at=at).enqueue(2)).result(timeout=5)) == 3
    with pytest.raises(TaskArgumentsError, match="not both"):
        add.options(delay=1, at=at)
    with pytest.raises(TaskArgumentsError, match="timezone-aware"):
        add.options(at=dt.datetime(2030, 1, 1))


def test_the_apps_settings_and_the_queue_are_injected() -> None:
    app = make_app(settings=Settings(greeting="Hello"))
    with TestClient(app) as client:
        job = client.run(greet.enqueue("Ada"))
        assert client.run(job.result(timeout=5)) == "Hello, Ada"
        with pytest.raises(TaskArgumentsError, match="Extra inputs"):
            client.run(greet.enqueue("Ada", settings={"greeting": "x"}))


class Mailer:
    sent: list[str] = []


def test_providers_added_to_the_queue_are_injected() -> None:
    @task
    async def notify(to: str, mailer: Mailer) -> int:
        mailer.sent.append(to)
        return len(mailer.sent)

    async def open_mailer() -> Mailer:
        return Mailer()

    app = make_app()
    app.state.tasks.provide(Mailer, open_mailer)
    with TestClient(app) as client:
        assert client.run(client.run(notify.enqueue("ada@example.com")).result(5)) == 1


def test_database_sessions_are_injected_and_committed(tmp_path: Path) -> None:
    app = make_app(database=f"sqlite:///{tmp_path / 'tasks.db'}")
    metadata.create_all(app.state.database.engine)

    @task
    async def async_write(label: str, db: AsyncSession) -> None:
        await db.execute(insert(marks).values(label=label, kind="async"))

    @task
    def sync_write(label: str, db: Session) -> None:
        db.execute(insert(marks).values(label=label, kind="sync"))

    @task
    async def write_then_fail(label: str, db: AsyncSession) -> None:
        await db.execute(insert(marks).values(label=label, kind="lost"))
        raise RuntimeError("after the write")

    @task
    def wrong(db: AsyncSession) -> None:
        pass

    with TestClient(app) as client:
        client.run(client.run(async_write.enqueue("a")).result(5))
        client.run(client.run(sync_write.enqueue("s")).result(5))
        with pytest.raises(JobFailed, match="after the write"):
            client.run(client.run(write_then_fail.enqueue("rolled back")).result(5))
        with pytest.raises(JobFailed, match="make the task async"):
            client.run(client.run(wrong.enqueue()).result(5))
    with app.state.database.session() as db:
        assert db.execute(select(marks.c.label, marks.c.kind)).all() == [
            ("a", "async"),
            ("s", "sync"),
        ]


def test_jobs_of_a_failed_request_never_run(tmp_path: Path) -> None:
    app = make_app(database=f"sqlite:///{tmp_path / 'tasks.db'}")
    metadata.create_all(app.state.database.engine)

    @app.post("/orders/{label}")
    async def order(label: str, db: AsyncSession, fail: bool = False) -> dict[str, str]:
        await db.execute(insert(marks).values(label=label, kind="order"))
        job = await flaky.enqueue(label=label)
        with pytest.raises(NotQueuedYet):
            await job.result()
        if fail:
            raise HTTPException(409, "refused")
        return {"label": label}

    @app.post("/crash")
    async def crash() -> None:
        await flaky.enqueue(label="crash")
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/orders/kept").status_code == 200
        assert client.post("/orders/dropped", params={"fail": True}).status_code == 409
        assert client.post("/crash").status_code == 500
        client.run(app.state.tasks.join())
    assert ran == ["kept"]
    with app.state.database.session() as db:
        assert db.scalars(select(marks.c.label)).all() == ["kept"]


def test_plain_handlers_enqueue_with_enqueue_sync() -> None:
    app = make_app()

    @app.post("/plain/{label}")
    def plain(label: str, fail: bool = False) -> dict[str, str | None]:
        job = flaky.enqueue_sync(label=label)
        if fail:
            raise HTTPException(409, "refused")
        return {"id": job.id}

    with TestClient(app) as client:
        assert client.post("/plain/kept").json() == {"id": None}  # queued after the commit
        assert client.post("/plain/dropped", params={"fail": True}).status_code == 409
        client.run(app.state.tasks.join())

        async def in_async_code() -> None:
            flaky.enqueue_sync(label="wrong")

        with pytest.raises(RuntimeError, match="in async code, await enqueue"):
            client.run(in_async_code())
    assert ran == ["kept"]
    with pytest.raises(RuntimeError, match="needs the app running"):
        Tasks("memory").enqueue_sync(flaky.options(), (), {"label": "x"})


def test_a_job_enqueued_after_the_response_started_is_queued_at_once() -> None:
    app = make_app()

    async def later() -> None:
        await flaky.enqueue(label="background")

    @app.post("/later")
    async def schedule(background: BackgroundTasks) -> dict[str, bool]:
        background.add_task(later)
        return {"ok": True}

    with TestClient(app) as client:
        assert client.post("/later").status_code == 200
        client.run(app.state.tasks.join())
    assert ran == ["background"]


def test_cron_tasks_run_on_their_schedule() -> None:
    ticks: list[float] = []

    @task(cron="* * * * * *")  # every second
    async def tick() -> None:
        ticks.append(time.monotonic())

    try:
        with TestClient(make_app()) as client:
            client.run(asyncio.sleep(2.2))
        assert len(ticks) >= 2
    finally:
        tick.cron = None


def test_bad_task_options_are_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="retries >= 0"):
        task(retries=-1)(add.func)
    with pytest.raises(ImproperlyConfigured, match="positive number"):
        task(timeout=0)(add.func)
    with pytest.raises(ImproperlyConfigured, match="invalid cron expression"):
        task(cron="every day")(add.func)
    with pytest.raises(ImproperlyConfigured, match=r"\*args or \*\*kwargs"):

        @task
        def loose(*args: int) -> None:
            pass

        loose.plan(frozenset())
    with pytest.raises(ImproperlyConfigured, match="unknown option 'task'"):
        App(task="memory")
    with pytest.raises(ImproperlyConfigured, match="postgresql:// or redis:// URL"):
        App(tasks="amqp://localhost")


def test_a_second_queue_on_the_same_app_is_a_configuration_error() -> None:
    app = App(tasks="memory")
    with pytest.raises(ImproperlyConfigured, match="has a task queue already"):
        install(app, "memory")
    with pytest.raises(ImproperlyConfigured, match="has a task queue already"):
        Tasks("memory").install(app)
    assert [m for m, _ in app.user_middleware].count(TaskBinding) == 1


def test_installing_the_same_queue_again_changes_nothing() -> None:
    tasks = Tasks("memory")
    app = App(tasks=tasks)
    assert tasks.install(app) is tasks
    assert install(app, tasks) is tasks
    assert app.state.tasks is tasks
    assert [m for m, _ in app.user_middleware].count(TaskBinding) == 1

    @app.post("/run/{label}")
    async def run(label: str) -> dict[str, bool]:
        await flaky.enqueue(label=label)
        return {"ok": True}

    with TestClient(app) as client:
        assert client.post("/run/once").status_code == 200
        client.run(tasks.join())
    assert ran == ["once"]


def test_tasks_work_with_no_app_at_all() -> None:
    async def main() -> int:
        tasks = current_tasks()
        job = await add.enqueue(5)
        result: int = await job.result(timeout=5)
        assert isinstance(tasks, Tasks)
        return result

    assert asyncio.run(main()) == 6


def test_the_memory_backend_has_no_workers() -> None:
    with pytest.raises(ImproperlyConfigured, match="has no workers"):
        asyncio.run(Tasks("memory").work())


def test_a_task_keeps_its_function_and_name() -> None:
    assert isinstance(add, Task)
    assert add.name == "tests.tasks.test_tasks.add"
    assert add.__name__ == "add"
    assert repr(add) == "<Task tests.tasks.test_tasks.add>"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_memory_backend_keeps_finished_jobs_for_a_while() -> None:
    backend = MemoryBackend(keep_for=60)
    clock = backend.clock = Clock()
    with TestClient(App(tasks=backend)) as client:
        done = client.run(add.enqueue(1))
        assert client.run(done.result(timeout=5)) == 2
        waiting = client.run(add.options(delay=3600).enqueue(2))
        clock.now += 59
        assert client.run(done.result()) == 2  # still kept
        assert [info.id for info in client.run(backend.list_jobs())] == [waiting.id, done.id]
        clock.now += 2
        assert [info.id for info in client.run(backend.list_jobs())] == [waiting.id]
        with pytest.raises(
            LookupError, match=r"No job 1 in this process \(finished jobs are kept 60 s"
        ):
            client.run(done.result())
        assert client.run(waiting.status()) is JobStatus.QUEUED  # waiting jobs stay


def test_the_memory_backend_keeps_at_most_so_many_finished_jobs() -> None:
    backend = MemoryBackend(keep_at_most=2)
    with TestClient(App(tasks=backend)) as client:
        jobs = [client.run(add.enqueue(n)) for n in range(1, 5)]
        client.run(asyncio.wait_for(backend.join(), 5))  # all four have run
        waiting = client.run(add.options(delay=3600).enqueue(0))
        listed = [info.id for info in client.run(backend.list_jobs())]
        assert listed == [waiting.id, jobs[3].id, jobs[2].id]  # two finished: the last
        assert client.run(jobs[3].result()) == 5
        with pytest.raises(LookupError, match="2 at most"):
            client.run(jobs[0].status())
        # A retried job ends anew: then it is the finished job kept longest.
        failing = client.run(flaky.enqueue("x", fail_times=99))
        with pytest.raises(JobFailed):
            client.run(failing.result(timeout=5))
        assert client.run(backend.retry_job(str(failing.id))) is True
        with pytest.raises(JobFailed):
            client.run(failing.result(timeout=5))
        listed = [info.id for info in client.run(backend.list_jobs())]
        assert listed == [failing.id, waiting.id, jobs[3].id]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keep_for": 0}, r"keep_for=...\) is a number of seconds above 0, not 0"),
        ({"keep_for": float("inf")}, "keep_for"),
        ({"keep_at_most": 0}, r"keep_at_most=...\) is a count of at least 1, not 0"),
        ({"keep_at_most": 2.5}, "keep_at_most"),
    ],
)
def test_bad_memory_backend_options_are_configuration_errors(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        MemoryBackend(**options)
