"""Shared fixtures."""

from __future__ import annotations

import pytest

from nightowl import App


@pytest.fixture
def app() -> App:
    """A fresh, empty app."""
    return App()
