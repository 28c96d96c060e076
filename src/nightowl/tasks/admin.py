"""The app's jobs in the admin: a page listing them (queued, running, failed with the
error, retried) with retry and cancel buttons.

::

    from nightowl.admin import Admin
    from nightowl.tasks.admin import add_jobs_page

    admin = Admin(app)
    add_jobs_page(admin)          # /admin/tasks/jobs, listed on the admin's index

Staff users see the page with the ``tasks.view_job`` permission, and retry or cancel
jobs with ``tasks.change_job`` (superusers have both). The page is a GET that changes
nothing; the buttons post a form that carries the CSRF token.
"""

# No ``from __future__ import annotations``: the action's signature names a local
# dependency, which the framework reads at startup.
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
from nightowl.tasks._queue import Tasks

if TYPE_CHECKING:
    from nightowl.admin import Admin

__all__ = ["add_jobs_page"]

HERE = Path(__file__).parent
_LOADER_KEY = "_nightowl_tasks_templates"
_FILTERS = ("queued", "running", "failed", "succeeded", "cancelled")


def add_jobs_page(
    admin: "Admin",
    *,
    path: str = "/tasks/jobs",
    title: str = "Jobs",
    view_permission: str = "tasks.view_job",
    change_permission: str = "tasks.change_job",
    limit: int = 100,
) -> None:
    """Show the app's jobs on ``admin`` at ``path`` (under the site's own path).

    Args:
        admin: the admin site.
        path: where the page is, under the site's path.
        title: the page's title, on the admin's index too.
        view_permission: what a staff user needs to see the page.
        change_permission: what a staff user needs to retry and cancel jobs.
        limit: the most jobs shown at once (the newest).
    """
    app = admin.app
    tasks = getattr(app.state, "tasks", None)
    if not isinstance(tasks, Tasks):
        raise ImproperlyConfigured(
            "add_jobs_page(admin) shows the app's jobs: give the app a task queue, "
            'App(tasks="postgresql://..."), "redis://..." or "memory".'
        )
    _add_templates(app)
    changer = Requirement("change_jobs", staff=True, permissions=[change_permission])
    page_url = admin.path + path

    @admin.page(path, title=title, permission=view_permission)
    async def jobs_page(request: Request) -> Response:
        status = _status_filter(request.query_params.get("status"))
        backend = tasks.backend
        jobs = await backend.list_jobs(status=status, limit=limit) if backend.lists_jobs else []
        user = request.scope.get("user")
        can_change = bool(await app.state.auth.has_permission(user, change_permission))
        context = {
            "title": title,
            "jobs": jobs,
            "listed": backend.lists_jobs,
            "backend": type(backend).__name__,
            "status": status.value if status is not None else "",
            "filters": _FILTERS,
            "page_url": page_url,
            "can_change": can_change,
            "limit": limit,
        }
        return admin.render(request, ["admin/tasks/jobs.html"], context)

    @app.post(page_url, name=f"{admin.name}_jobs_action", include_in_schema=False)
    async def jobs_action(
        request: Request,
        user: Annotated[Any, Depends(changer)],
        job: Annotated[str, Form(min_length=1, max_length=200)],
        action: Annotated[Literal["retry", "cancel"], Form()],
        status: Annotated[str, Form()] = "",
    ) -> Response:
        backend = tasks.backend
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
