"""The sign-up example (examples/signup) in a real headless Chromium."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import pytest

from nightowl import App, HTMLResponse
from tests.browser import NEEDS_CHROMIUM
from tests.live import live_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "signup" / "app.py"

pytestmark = [pytest.mark.slow, *NEEDS_CHROMIUM]


def load_example() -> Any:
    """A fresh copy of the example's module (its accounts live in a module-level dict)."""
    spec = importlib.util.spec_from_file_location(f"signup_{uuid.uuid4().hex}", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_signup_shows_errors_then_flashes_a_welcome(page: Any) -> None:
    example = load_example()
    with live_server(example.app) as base:
        page.goto(f"{base}/signup")
        assert page.title() == "Sign up · nightowl"
        assert page.get_attribute("#id_email", "type") == "email"
        assert page.get_attribute("#id_age", "type") == "number"
        assert page.get_attribute("#id_birthday", "type") == "date"
        assert page.get_attribute("#id_name", "maxlength") == "40"
        assert page.locator("label[for=id_terms]").inner_text() == "I accept the terms"

        # The browser's own checks pass; the server's email check does not.
        page.fill("#id_name", "Ada")
        page.fill("#id_email", "ada@localhost")
        page.fill("#id_password", "correct horse")
        page.fill("#id_age", "36")
        page.select_option("#id_plan", "pro")
        page.fill("#id_birthday", "1815-12-10")
        page.check("#id_newsletter")
        page.check("#id_terms")
        with page.expect_navigation() as navigation:
            page.click("button[type=submit]")
        assert navigation.value.status == 422
        assert page.locator("#id_email-error").inner_text() == (
            "Enter an email address with a domain, like ada@example.com."
        )
        assert page.get_attribute("#id_email", "aria-invalid") == "true"
        assert page.input_value("#id_name") == "Ada"
        assert page.input_value("#id_email") == "ada@localhost"
        assert page.input_value("#id_age") == "36"
        assert page.input_value("#id_plan") == "pro"
        assert page.input_value("#id_birthday") == "1815-12-10"
        assert page.is_checked("#id_newsletter") and page.is_checked("#id_terms")
        assert page.input_value("#id_password") == ""  # never sent back
        assert example.ACCOUNTS == {}

        page.fill("#id_email", "ada@example.com")
        page.fill("#id_password", "correct horse")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == f"{base}/"
        assert page.locator(".flash").inner_text() == ("Welcome, Ada! Your pro account is ready.")
        assert list(example.ACCOUNTS) == ["ada@example.com"]
        page.reload()
        assert page.locator(".flash").count() == 0  # shown once

        page.goto(f"{base}/accounts")
        assert "ada@example.com" in page.locator("table").inner_text()
        missing = page.goto(f"{base}/no-such-page")
        assert missing is not None and missing.status == 404
        assert page.locator("h1").inner_text() == "This page does not exist"  # 404.html


def test_a_forged_post_from_another_origin_is_refused(page: Any) -> None:
    example = load_example()
    evil = App()
    with live_server(example.app) as base:

        @evil.get("/")
        def trap() -> HTMLResponse:
            return HTMLResponse(
                f'<form id="f" method="post" action="{base}/signup">'
                '<input name="name" value="Mallory"><input name="email" value="m@evil.com">'
                '<input name="password" value="12345678"><input name="terms" value="on">'
                "</form><script>document.getElementById('f').submit()</script>"
            )

        with live_server(evil) as evil_base:
            assert evil_base != base
            page.goto(f"{base}/signup")  # the browser now has a session cookie
            assert any(c["name"] == "session" for c in page.context.cookies())
            with page.expect_response(
                lambda r: r.url == f"{base}/signup" and r.request.method == "POST"
            ) as refused:
                page.goto(evil_base)
            assert refused.value.status == 403
            page.wait_for_load_state()
            assert "CSRF verification failed" in page.content()  # an HTML page for a browser
    assert example.ACCOUNTS == {}
