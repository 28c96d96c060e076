"""Pages that batteries add to every admin site of an app, whichever comes first.

The admin's extension point, kept out of the admin package so that a battery can offer a
page without importing the admin (and Jinja2, SQLAlchemy) when the app has no admin::

    from nightowl.admin_pages import admin_pages

    def jobs_page(site):                 # called with each admin site of the app
        from nightowl.tasks.admin import add_jobs_page
        add_jobs_page(site)

    admin_pages(app).contribute("tasks.jobs", jobs_page)

Each :class:`~nightowl.admin.Admin` joins the registry of its app when it is created
(:meth:`AdminPages.add_site`): it gets the pages contributed so far, and a page
contributed later is added to it then. A contributor runs once per site.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nightowl.exceptions import ImproperlyConfigured

__all__ = ["AdminPages", "Contributor", "admin_pages"]

#: Adds a battery's page to one admin site (it receives the :class:`~nightowl.admin.Admin`).
Contributor = Callable[[Any], None]

_STATE_KEY = "admin_pages"


class AdminPages:
    """An app's page contributors and admin sites; :func:`admin_pages` gives the app's."""

    def __init__(self) -> None:
        self._contributors: dict[str, Contributor] = {}
        self._sites: list[Any] = []

    def contribute(self, name: str, contributor: Contributor) -> None:
        """Add ``contributor``'s page to every admin site of the app, now and later.

        ``name`` (``"tasks.jobs"``) identifies the page: contributing it again changes
        nothing, so a battery installed twice adds its page once.
        """
        if name in self._contributors:
            return
        self._contributors[name] = contributor
        for site in self._sites:
            contributor(site)

    def add_site(self, site: Any) -> None:
        """Give a new admin site every page contributed so far, and those to come."""
        self._sites.append(site)
        for contributor in self._contributors.values():
            contributor(site)

    @property
    def names(self) -> tuple[str, ...]:
        """The contributed pages' names, in the order they were contributed."""
        return tuple(self._contributors)


def admin_pages(app: Any) -> AdminPages:
    """The registry of admin pages of ``app`` (made on first use, kept in ``app.state``)."""
    found = getattr(app.state, _STATE_KEY, None)
    if found is None:
        found = AdminPages()
        setattr(app.state, _STATE_KEY, found)
    if not isinstance(found, AdminPages):
        raise ImproperlyConfigured(
            f"app.state.{_STATE_KEY} is the admin's page registry; it holds {found!r}."
        )
    return found
