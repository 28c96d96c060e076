"""The jobs page of the admin (``nightowl.tasks.admin``), over HTTP, on the in-process
backend, procrastinate on PostgreSQL and SAQ on Redis (with a real worker process): what
it lists, its filter, the retry and cancel buttons, and who may see and press them; that
every admin site of an app with a task queue shows it with no call, whichever of the two
comes first, and that an app without a task queue has no such page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from nightowl import App
from nightowl.admin import Admin
from nightowl.auth import Auth
from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks import Backend, Job, JobStatus
from nightowl.tasks.admin import add_jobs_page
from nightowl.tasks.backends.memory import MemoryBackend
from tests.admin.conftest import FAST, PASSWORD, SECRET, client_for
from tests.tasks.admin_jobs import (
    PAGE,
    STAFF_PAGE,
    Browser,
    Users,
    jobs_app,
    post_action,
    rows,
)
from tests.tasks.conftest import Worker, wait_until
from tests.tasks.workapp import flaky_mark, mark, slow_mark

#: A worker that sweeps no job back while the test runs (see test_redis.py).
QUIET_WORKER = ("--concurrency", "3", "--heartbeat", "300", "--stalled-after", "600")


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


def status_of(client: Browser, job: Job) -> JobStatus:
    return client.run(job.status())


def exercise(app: App, start: Callable[[], object]) -> None:
    """The page's story on one backend; ``start`` starts its worker (if it has any)."""
    users = Users(app)
    boss, manager = users["boss"], users["manager"]
    failed = boss.run(flaky_mark.enqueue(label="flaky", fail_times=99))
    done = boss.run(mark.enqueue(label="fine"))
    later = boss.run(mark.options(delay=3600).enqueue(label="later"))
    slow = boss.run(slow_mark.enqueue(label="slow", seconds=120))
    start()
    wait_until(lambda: status_of(boss, failed) is JobStatus.FAILED, "the flaky job to fail")
    wait_until(lambda: status_of(boss, done) is JobStatus.SUCCEEDED, "the fine job to run")
    assert failed.id and done.id and later.id
    failed_id = failed.id

    page = boss.get(PAGE)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    table = rows(page.text)
    assert table[failed.id]["status"] == "failed"
    assert table[failed.id]["runs"] == "3"  # retries=2: three runs
    assert table[failed.id]["error"] == "RuntimeError: run 3 fails"
    assert table[done.id]["status"] == "succeeded"
    assert table[later.id]["status"] == "queued"
    assert list(rows(boss.get(PAGE, params={"status": "failed"}).text)) == [failed.id]
    assert list(rows(boss.get(PAGE, params={"status": "queued"}).text)) == [later.id]
    bad = boss.get(PAGE, params={"status": "lost"})
    assert bad.status_code == 400
    assert "status is one of queued" in bad.text

    # A GET changes nothing, whatever it carries.
    manager.get(PAGE, params={"job": failed.id, "action": "retry"})
    assert status_of(boss, failed) is JobStatus.FAILED

    # Retry: the failed job runs once more, and fails again.
    response = post_action(manager, failed.id, "retry", status="failed")
    assert response.status_code == 303
    assert response.headers["location"] == PAGE + "?status=failed"
    assert f"Job {failed.id} queued again." in manager.get(PAGE).text

    def retried() -> bool:
        row = rows(boss.get(PAGE).text)[failed_id]
        return row["status"] == "failed" and row["runs"] == "4"

    wait_until(retried, "the retried job to fail again")
    assert rows(boss.get(PAGE).text)[failed.id]["error"] == "RuntimeError: run 4 fails"

    # Cancel a running job: its worker stops the run.
    wait_until(lambda: status_of(boss, slow) is JobStatus.RUNNING, "the slow job to start")
    assert slow.id is not None
    assert rows(boss.get(PAGE).text)[slow.id]["status"] == "running"
    assert post_action(manager, slow.id, "cancel").status_code == 303
    assert f"Job {slow.id} cancelled." in manager.get(PAGE).text
    wait_until(lambda: status_of(boss, slow) is JobStatus.CANCELLED, "the slow run to stop")

    # Cancel a waiting job: it never runs.
    assert post_action(manager, later.id, "cancel").status_code == 303
    assert status_of(boss, later) is JobStatus.CANCELLED
    assert rows(boss.get(PAGE).text)[later.id]["status"] == "cancelled"
    post_action(manager, later.id, "cancel")
    assert f"No waiting or running job {later.id}: nothing was done." in manager.get(PAGE).text
    post_action(manager, done.id, "retry")
    assert f"No failed job {done.id}: nothing was done." in manager.get(PAGE).text
    users.close()


def test_jobs_in_the_admin_with_the_in_process_backend(sqlite_file: str) -> None:
    exercise(jobs_app(sqlite_file, "memory"), lambda: None)


@pytest.mark.slow
def test_jobs_in_the_admin_with_procrastinate(
    tasks_postgres: str, start_worker: Callable[..., Worker]
) -> None:
    engine = create_engine(tasks_postgres.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            connection.execute(text("DELETE FROM procrastinate_jobs"))
    engine.dispose()
    app = jobs_app(tasks_postgres, tasks_postgres)
    exercise(app, lambda: start_worker(tasks_postgres, tasks_postgres, *QUIET_WORKER))


@pytest.mark.slow
# SAQ's abort and finish call redis-py's setex, which redis-py 8 deprecates.
@pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")
def test_jobs_in_the_admin_with_saq(
    sqlite_file: str, redis_url: str, start_worker: Callable[..., Worker]
) -> None:
    app = jobs_app(sqlite_file, redis_url)
    exercise(app, lambda: start_worker(sqlite_file, redis_url, *QUIET_WORKER))


@pytest.fixture
def users(sqlite_file: str) -> Iterator[tuple[Users, Job]]:
    """Every user, and a failed job."""
    app = jobs_app(sqlite_file, "memory")
    found = Users(app)
    job = found["boss"].run(flaky_mark.enqueue(label="x", fail_times=99))
    wait_until(lambda: status_of(found["boss"], job) is JobStatus.FAILED, "the job to fail")
    yield found, job
    found.close()


def test_who_sees_the_page_and_who_presses_its_buttons(
    users: tuple[Users, Job],
) -> None:
    clients_, job = users
    assert job.id is not None
    index = clients_["boss"].get("/admin/")
    assert f'href="{PAGE}"' in index.text  # listed on the index
    for name in ("anonymous", "reader"):
        response = clients_[name].get(PAGE)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/auth/login?next=")
    assert clients_["helper"].get(PAGE).status_code == 403  # staff, no permission
    assert f'href="{PAGE}"' not in clients_["helper"].get("/admin/").text

    clerk = clients_["clerk"].get(PAGE)  # may look, not press
    assert clerk.status_code == 200
    assert rows(clerk.text)[job.id]["status"] == "failed"
    assert ">Retry<" not in clerk.text
    assert ">Retry<" in clients_["manager"].get(PAGE).text
    assert ">Retry<" in clients_["boss"].get(PAGE).text
    manager_page = clients_["manager"].get(PAGE)
    token = manager_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for name in ("clerk", "helper", "reader"):
        response = clients_[name].post(
            PAGE, data={"csrf_token": token, "job": job.id, "action": "retry"}
        )
        assert response.status_code == 403, name
    assert clients_["boss"].run(job.status()) is JobStatus.FAILED


def test_actions_need_the_csrf_token_and_valid_fields(
    users: tuple[Users, Job],
) -> None:
    clients_, job = users
    manager = clients_["manager"]
    assert job.id is not None
    forged = manager.post(PAGE, data={"job": job.id, "action": "retry"})
    assert forged.status_code == 403
    page = manager.get(PAGE).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    bad: list[dict[str, Any]] = [
        {"job": job.id, "action": "delete"},
        {"action": "retry"},
        {"job": "", "action": "retry"},
        {"job": job.id},
    ]
    for data in bad:
        response = manager.post(PAGE, data={"csrf_token": token, **data})
        assert response.status_code == 422, data  # a browser gets the error page in HTML
    assert post_action(manager, job.id, "retry", status="nonsense").status_code == 400
    assert post_action(manager, "no-such-job", "cancel").status_code == 303
    assert clients_["boss"].run(job.status()) is JobStatus.FAILED


@pytest.mark.parametrize("tasks_first", [True, False], ids=["tasks-first", "admin-first"])
def test_every_site_shows_the_page_whichever_comes_first(
    sqlite_file: str, tasks_first: bool
) -> None:
    app = jobs_app(sqlite_file, "memory", tasks_first=tasks_first)
    users = Users(app)
    boss, manager = users["boss"], users["manager"]
    job = boss.run(flaky_mark.enqueue(label="x", fail_times=99))
    wait_until(lambda: status_of(boss, job) is JobStatus.FAILED, "the job to fail")
    assert job.id is not None
    for site, page in (("/admin/", PAGE), ("/staff/", STAFF_PAGE)):
        index = boss.get(site).text
        assert index.count(f'href="{page}"') == 1, site  # listed once on each index
        assert rows(boss.get(page).text)[job.id]["status"] == "failed"
        assert f'href="{page}"' not in users["helper"].get(site).text
        assert users["helper"].get(page).status_code == 403  # staff, no permission
        assert users["reader"].get(page).status_code == 303  # not staff: to the login page
        clerk = users["clerk"].get(page)
        assert clerk.status_code == 200
        assert ">Retry<" not in clerk.text
    # Each site's buttons work, and send back to that site's page.
    response = post_action(manager, job.id, "retry", status="failed")
    assert response.headers["location"] == PAGE + "?status=failed"
    token = manager.get(STAFF_PAGE).text.split('name="csrf_token" value="', 1)[1].split('"')[0]
    refused = users["clerk"].post(
        STAFF_PAGE, data={"csrf_token": token, "job": job.id, "action": "retry"}
    )
    assert refused.status_code == 403
    staff = manager.post(STAFF_PAGE, data={"csrf_token": token, "job": job.id, "action": "retry"})
    assert staff.status_code == 303
    assert staff.headers["location"] == STAFF_PAGE
    boss.run(app.state.tasks.join())  # the retried runs end before the app stops
    users.close()


def test_no_task_queue_no_jobs_page(sqlite_file: str) -> None:
    app = App(database=sqlite_file, secret_key=SECRET)
    auth = Auth(app, hasher=FAST)
    Admin(app)
    app.state.database.create_all()
    auth.create_user_sync(PASSWORD, username="boss", is_staff=True, is_superuser=True)
    client = client_for(app, "boss")
    try:
        assert "/admin/tasks/jobs" not in client.get("/admin/").text
        assert client.get(PAGE, follow_redirects=True).status_code == 404  # no such model
    finally:
        client.__exit__(None, None, None)
    assert "tasks" not in app.state


def test_the_options_of_the_one_page(sqlite_file: str) -> None:
    app = jobs_app(sqlite_file, "memory")
    admin = app.state.admin_sites["admin"]
    add_jobs_page(admin, title="Queue", view_permission="tasks.change_job", limit=1)
    add_jobs_page(admin, title="Queue", view_permission="tasks.change_job", limit=1)
    # On the second site, looking is enough to press the buttons.
    add_jobs_page(app.state.admin_sites["staff"], change_permission="tasks.view_job")
    users = Users(app)
    boss = users["boss"]
    for label in ("a", "b"):
        boss.run(mark.enqueue(label=label))
    failed = boss.run(flaky_mark.enqueue(label="x", fail_times=99))
    wait_until(lambda: status_of(boss, failed) is JobStatus.FAILED, "the job to fail")
    assert failed.id is not None
    index = boss.get("/admin/").text
    assert index.count(f'href="{PAGE}"') == 1
    assert f'<a href="{PAGE}">Queue</a>' in index
    assert len(rows(boss.get(PAGE).text)) == 1  # limit=1
    assert users["clerk"].get(PAGE).status_code == 403  # may view jobs, not change them
    assert users["manager"].get(PAGE).status_code == 200
    # The other site keeps its own options: the default title, limit and view permission.
    assert f'<a href="{STAFF_PAGE}">Jobs</a>' in boss.get("/staff/").text
    clerk = users["clerk"].get(STAFF_PAGE)
    assert clerk.status_code == 200
    assert len(rows(boss.get(STAFF_PAGE).text)) == 3
    assert ">Retry<" in clerk.text  # tasks.view_job is enough to press, there
    token = clerk.text.split('name="csrf_token" value="', 1)[1].split('"')[0]
    data = {"csrf_token": token, "job": failed.id, "action": "retry"}
    assert users["clerk"].post(STAFF_PAGE, data=data).status_code == 303
    boss.run(app.state.tasks.join())
    users.close()
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        add_jobs_page(admin, limit=0)


def test_the_page_needs_a_task_queue(sqlite_file: str) -> None:
    app = App(database=sqlite_file, secret_key=SECRET)
    Auth(app)
    with pytest.raises(ImproperlyConfigured, match=r"App\(tasks="):
        add_jobs_page(Admin(app))


class Unlisted(MemoryBackend):
    """A backend that keeps its jobs to itself, as a third-party one may."""

    lists_jobs = False
    list_jobs = Backend.list_jobs
    retry_job = Backend.retry_job
    cancel_job = Backend.cancel_job


def test_a_backend_that_does_not_list_its_jobs(sqlite_file: str) -> None:
    users = Users(jobs_app(sqlite_file, Unlisted()))
    page = users["boss"].get(PAGE)
    assert page.status_code == 200
    assert "The task backend (Unlisted) does not list its jobs." in page.text
    assert "By status" not in page.text
    manager = users["manager"]
    form = manager.get("/auth/password/change").text  # a page with a form, for a token
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = manager.post(PAGE, data={"csrf_token": token, "job": "1", "action": "retry"})
    assert refused.status_code == 400
    assert "Unlisted does not retry jobs." in refused.text
    users.close()
