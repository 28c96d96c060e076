"""The admin's page registry (``nightowl.admin_pages``): a contributed page reaches every
site of the app once, whichever is added first; the full story over HTTP is in
tests/tasks/test_admin.py."""

from __future__ import annotations

from typing import Any

import pytest

from nightowl import App
from nightowl.admin_pages import AdminPages, admin_pages
from nightowl.exceptions import ImproperlyConfigured


def test_every_site_gets_every_page_once_in_either_order() -> None:
    app = App()
    seen: list[tuple[str, Any]] = []
    pages = admin_pages(app)
    assert admin_pages(app) is pages  # one registry per app
    pages.add_site("first")
    pages.contribute("jobs", lambda site: seen.append(("jobs", site)))
    pages.contribute("jobs", lambda site: seen.append(("again", site)))  # the same page
    pages.add_site("second")
    pages.contribute("stats", lambda site: seen.append(("stats", site)))
    assert seen == [
        ("jobs", "first"),
        ("jobs", "second"),
        ("stats", "first"),
        ("stats", "second"),
    ]
    assert pages.names == ("jobs", "stats")
    assert isinstance(pages, AdminPages)
    assert admin_pages(App()).names == ()  # another app, nothing contributed


def test_something_else_in_its_place_is_a_clear_error() -> None:
    app = App()
    app.state.admin_pages = ["not a registry"]
    with pytest.raises(ImproperlyConfigured, match="the admin's page registry"):
        admin_pages(app)
