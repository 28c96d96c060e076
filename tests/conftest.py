"""Shared fixtures."""

from __future__ import annotations

import pytest

from nightowl import App

#: The databases (SQLite, PostgreSQL, MariaDB) every battery's tests run on.
pytest_plugins = ["tests.databases"]


@pytest.fixture
def app() -> App:
    """A fresh, empty app."""
    return App()
