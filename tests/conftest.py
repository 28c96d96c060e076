"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nightowl import App
from tests.browser import launch

#: The databases (SQLite, PostgreSQL, MariaDB) every battery's tests run on.
pytest_plugins = ["tests.databases"]


@pytest.fixture
def app() -> App:
    """A fresh, empty app."""
    return App()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium shared by a module's tests (see ``tests/browser.py``)."""
    with launch() as browser:
        yield browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies from other tests)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
