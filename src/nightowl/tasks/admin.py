"""The app's jobs in the admin: a page listing them (queued, running, failed with the
error, retried) with retry and cancel buttons.

An app with a task queue and an admin site shows the page on every site, whichever of
the two was set up first; nothing to call::

    app = App(database="sqlite:///app.db", tasks="memory")
    Auth(app)
    admin = Admin(app)            # /admin/tasks/jobs, listed on the admin's index

Staff users see the page with the ``tasks.view_job`` permission, and retry or cancel
jobs with ``tasks.change_job`` (superusers have both); :func:`add_jobs_page` changes
them. The page is a GET that changes nothing; the buttons post a form that carries the
CSRF token.

This module is the bridge between the task and admin batteries: the task battery
contributes :func:`show_jobs` to the admin's page registry
(:mod:`nightowl.admin_pages`) and imports this module only when a site exists.
"""

# No ``from __future__ import annotations``: the action's signature names a local
# dependency, which the framework reads at startup.
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlencode

from nightowl.auth import Requirement
from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.params import Depends, Form
from nightowl.requests import Request
from nightowl.responses import RedirectResponse, Response
from nightowl.sessions import flash
from nightowl.tasks._job import JobStatus

if TYPE_CHECKING:
    from nightowl.admin import Admin
    from nightowl.tasks.backends import Backend

__all__ = ["PATH", "add_jobs_page", "show_jobs"]

HERE = Path(__file__).parent
#: Where the jobs page is, under each admin site's path.
PATH = "/tasks/jobs"
_LOADER_KEY = "_nightowl_tasks_templates"
_FILTERS = ("queued", "running", "failed", "succeeded", "cancelled")


@dataclass(slots=True)
class _JobsPage:
    """The jobs page of one site: its admin page and its options, read per request."""

    page: Any  # the site's entry in ``admin.pages`` (its title and view permission)
    changer: Requirement
    limit: int


#: The jobs page of each site that shows one.
_PAGES: "weakref.WeakKeyDictionary[Any, _JobsPage]" = weakref.WeakKeyDictionary()


def add_jobs_page(
    admin: "Admin",
    *,
    title: str = "Jobs",
    view_permission: str = "tasks.view_job",
    change_permission: str = "tasks.change_job",
    limit: int = 100,
) -> None:
    """Set the options of the jobs page on ``admin`` (at ``/tasks/jobs`` under its path).

    Every admin site of an app with a task queue shows the page already; this call
    changes its options, and calling it again changes them again (there is one page).

    Args:
        admin: the admin site.
        title: the page's title, on the admin's index too.
        view_permission: what a staff user needs to see the page.
        change_permission: what a staff user needs to retry and cancel jobs.
        limit: the most jobs shown at once (the newest).
    """
    if limit < 1:
        raise ImproperlyConfigured(f"add_jobs_page(limit=...) is at least 1, not {limit!r}.")
    jobs = _PAGES.get(admin) or _add(admin)
    jobs.page.title = title
    jobs.page.permission = view_permission
    jobs.changer.permissions = (change_permission,)
    jobs.limit = limit


def show_jobs(admin: "Admin") -> None:
    """Show the jobs page on ``admin`` with its default options, unless it shows it
    already: what the task battery contributes to every admin site of its app."""
    if admin not in _PAGES:
        _add(admin)


def _tasks_of(app: Any) -> Any:
    tasks = getattr(app.state, "tasks", None)
    if tasks is None:
        raise ImproperlyConfigured(
            "The jobs page shows the app's jobs: give the app a task queue, "
            'App(tasks="postgresql://..."), "redis://..." or "memory".'
        )
    return tasks


def _add(admin: "Admin") -> _JobsPage:
    """Add the page and its action route to ``admin``, with the default options."""
    app = admin.app
    _tasks_of(app)
    _add_templates(app)
    changer = Requirement("change_jobs", staff=True, permissions=["tasks.change_job"])
    page_url = admin.path + PATH

    async def jobs_page(request: Request) -> Response:
        jobs = _PAGES[admin]
        status = _status_filter(request.query_params.get("status"))
        backend: Backend = _tasks_of(app).backend
        found = (
            await backend.list_jobs(status=status, limit=jobs.limit) if backend.lists_jobs else []
        )
        user = request.scope.get("user")
        change_permission = jobs.changer.permissions[0]
        can_change = bool(await app.state.auth.has_permission(user, change_permission))
        context = {
            "title": jobs.page.title,
            "jobs": found,
            "listed": backend.lists_jobs,
            "backend": type(backend).__name__,
            "status": status.value if status is not None else "",
            "filters": _FILTERS,
            "page_url": page_url,
            "can_change": can_change,
            "limit": jobs.limit,
        }
        return admin.render(request, ["admin/tasks/jobs.html"], context)

    admin.page(PATH, title="Jobs", permission="tasks.view_job")(jobs_page)
    page = next(p for p in admin.pages if p.handler is jobs_page)

    @app.post(page_url, name=f"{admin.name}_jobs_action", include_in_schema=False)
    async def jobs_action(
        request: Request,
        user: Annotated[Any, Depends(changer)],
        job: Annotated[str, Form(min_length=1, max_length=200)],
        action: Annotated[Literal["retry", "cancel"], Form()],
        status: Annotated[str, Form()] = "",
    ) -> Response:
        backend: Backend = _tasks_of(app).backend
        filtered = _status_filter(status)
        try:
            if action == "retry":
                done = await backend.retry_job(job)
            else:
                done = await backend.cancel_job(job)
        except NotImplementedError as exc:
            raise HTTPException(400, str(exc)) from None
        if done:
            verb = "queued again" if action == "retry" else "cancelled"
            flash(request, f"Job {job} {verb}.", "success")
        else:
            state = "failed" if action == "retry" else "waiting or running"
            flash(request, f"No {state} job {job}: nothing was done.", "warning")
        query = f"?{urlencode({'status': filtered.value})}" if filtered is not None else ""
        return RedirectResponse(page_url + query, status_code=303)

    jobs = _PAGES[admin] = _JobsPage(page, changer, 100)
    return jobs


def _status_filter(value: str | None) -> JobStatus | None:
    """The ``status`` filter of the page: one of the statuses, or none (every job)."""
    if not value:
        return None
    try:
        return JobStatus(value)
    except ValueError:
        raise HTTPException(
            400, f"status is one of {', '.join(_FILTERS)}, not {value[:40]!r}."
        ) from None


def _add_templates(app: Any) -> None:
    from nightowl.templating import templates_for

    templates = templates_for(app)
    if not templates.env.globals.get(_LOADER_KEY):
        templates.add_directory(HERE / "templates")
        templates.env.globals[_LOADER_KEY] = True
