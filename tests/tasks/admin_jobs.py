"""The app of the jobs-page tests: the auth battery, two admin sites (which show the
jobs page by themselves), and users of every kind; jobs from
:mod:`tests.tasks.workapp`'s tasks."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx

from nightowl import App
from nightowl.admin import Admin
from nightowl.auth import Auth
from nightowl.tasks import Backend, install
from nightowl.testing import TestClient
from tests.admin.conftest import FAST, SECRET, client_for, grant, log_in
from tests.tasks.workapp import metadata

PAGE = "/admin/tasks/jobs"
#: The jobs page of the app's second admin site.
STAFF_PAGE = "/staff/tasks/jobs"
T = TypeVar("T")


def jobs_app(database: str, tasks: str | Backend, *, tasks_first: bool = True) -> App:
    """The admin app on this database and task backend, its tables and users created:
    ``boss`` (superuser), ``manager`` (may retry and cancel), ``clerk`` (may only
    look), ``helper`` (staff without the permission), ``reader`` (not staff).

    Two admin sites, ``/admin`` and ``/staff``; the task queue is given to ``App()``
    (``tasks_first``), or installed after both sites exist."""
    if tasks_first:
        app = App(database=database, tasks=tasks, secret_key=SECRET)
    else:
        app = App(database=database, secret_key=SECRET)
    auth = Auth(app, hasher=FAST)
    Admin(app)
    Admin(app, path="/staff", title="Support desk", name="staff")
    if not tasks_first:
        install(app, tasks)
    app.state.database.create_all()
    metadata.create_all(app.state.database.engine)  # task_marks, which the tasks write
    password = "correct horse battery"
    auth.create_user_sync(password, username="boss", is_staff=True, is_superuser=True)
    manager = auth.create_user_sync(password, username="manager", is_staff=True)
    clerk = auth.create_user_sync(password, username="clerk", is_staff=True)
    auth.create_user_sync(password, username="helper", is_staff=True)
    auth.create_user_sync(password, username="reader")
    grant(app, manager, "tasks.view_job", "tasks.change_job")
    grant(app, clerk, "tasks.view_job")
    return app


class Browser:
    """One user of a :class:`Users`: requests go out with that user's cookies."""

    def __init__(self, users: Users, name: str) -> None:
        self.users = users
        self.name = name

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """A GET as this user."""
        response = self.users.switch(self.name).get(url, **kwargs)
        self.users.keep(self.name)
        return response

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """A POST as this user."""
        response = self.users.switch(self.name).post(url, **kwargs)
        self.users.keep(self.name)
        return response

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the app's event loop."""
        return self.users.client.run(awaitable)


class Users:
    """Every user logged in once, sharing one test client (one event loop, so the app's
    database pool serves them all): ``users["boss"].get(...)``."""

    NAMES = ("boss", "manager", "clerk", "helper", "reader")

    def __init__(self, app: App) -> None:
        self.client = client_for(app, None)
        self.jars: dict[str, httpx.Cookies] = {"anonymous": httpx.Cookies()}
        for name in self.NAMES:
            self.client.cookies = httpx.Cookies()
            log_in(self.client, name)
            self.jars[name] = httpx.Cookies(self.client.cookies)

    def switch(self, name: str) -> TestClient:
        """The client, carrying ``name``'s cookies."""
        self.client.cookies = self.jars[name]
        return self.client

    def keep(self, name: str) -> None:
        """Keep the cookies the last response set, as ``name``'s browser would."""
        self.jars[name] = httpx.Cookies(self.client.cookies)

    def __getitem__(self, name: str) -> Browser:
        return Browser(self, name)

    def close(self) -> None:
        """Stop the app."""
        self.client.__exit__(None, None, None)


def rows(page: str) -> dict[str, dict[str, str]]:
    """The jobs table of ``page``: job id -> its cells by class (status, runs, error)."""
    found: dict[str, dict[str, str]] = {}
    for match in re.finditer(r'<tr class="job-(\w+)" data-job="([^"]+)">(.*?)</tr>', page, re.S):
        status, job, body = match.groups()
        cells = dict(re.findall(r'<td class="(\w+)">(.*?)</td>', body, re.S))
        found[job] = {"status": status, **{k: v.strip() for k, v in cells.items()}}
    return found


def post_action(client: Browser, job: str, action: str, **extra: Any) -> httpx.Response:
    """Press a job's button: the form's CSRF token, then the post."""
    page = client.get(PAGE)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    data = {"csrf_token": token.group(1), "job": job, "action": action, **extra}
    return client.post(PAGE, data=data)
