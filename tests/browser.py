"""Headless Chromium for the browser tests: Debian's package, driven by Playwright.

Never a downloaded browser. A test module that needs one sets
``pytestmark = [pytest.mark.slow, *NEEDS_CHROMIUM]`` and takes the ``browser`` (one per
module) or ``page`` (a fresh context per test) fixture from ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str | None:
    """Debian's Chromium, or another ``chromium`` on the PATH."""
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


#: Skips for a machine without Playwright's package or without Chromium.
NEEDS_CHROMIUM = [
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
    pytest.mark.skipif(chromium() is None, reason=f"no Chromium at {CHROMIUM}"),
]


@contextlib.contextmanager
def launch() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()
