"""Fixtures of the database battery's tests (the databases themselves are in
``tests/databases.py``)."""

from __future__ import annotations

import pytest

from nightowl import App
from nightowl.db import Database, Model

__all__ = ["Model"]


@pytest.fixture
def app(database: Database) -> App:
    """An app using ``database``."""
    return App(database=database)
