"""Tracebacks of the user's frames only: import and startup errors say where they are."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any

import pytest

from nightowl import App
from nightowl._frames import format_user_traceback, is_library_file
from nightowl.exceptions import ImproperlyConfigured


def test_library_files_are_told_from_the_users() -> None:
    import json

    import nightowl

    assert is_library_file(nightowl.__file__ or "")
    assert is_library_file(json.__file__ or "")
    assert is_library_file("<frozen importlib._bootstrap>")
    assert not is_library_file(__file__)


def _fail() -> None:
    raise RuntimeError("cannot reach the payment service")


def test_startup_failure_is_logged_once_with_the_users_frames(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    app.on_startup(_fail)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    with caplog.at_level(logging.ERROR, "nightowl"), pytest.raises(RuntimeError):
        asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == [{"type": "lifespan.startup.failed", "message": ""}]  # the server says it failed
    [record] = caplog.records
    text = record.getMessage()
    assert text.startswith("Application startup failed:\nIn your code (most recent call last):")
    assert f'File "{__file__}"' in text and 'raise RuntimeError("cannot reach' in text
    assert text.count("RuntimeError: cannot reach the payment service") == 1
    assert "_concurrency" not in text and "lifespan.py" not in text
    assert record.exc_info is None  # no second, full traceback


def test_a_configuration_error_is_its_message_alone() -> None:
    try:
        raise ImproperlyConfigured("No SECRET_KEY is set.")
    except ImproperlyConfigured as exc:
        error = exc
    error.__traceback__ = None
    assert (
        format_user_traceback(error)
        == "nightowl.exceptions.ImproperlyConfigured: No SECRET_KEY is set.\n"
    )


def test_the_exceptions_it_was_raised_from_come_first() -> None:
    try:
        try:
            empty: dict[str, int] = {}
            empty["key"]
        except KeyError as inner:
            raise ValueError("bad settings") from inner
    except ValueError as exc:
        text = format_user_traceback(exc)
    assert (
        text.index("KeyError: 'key'")
        < text.index("The above caused:")
        < text.index("ValueError: bad settings")
    )
