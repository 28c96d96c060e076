"""The debug page tells the story: template file and line, the user's frames with their
source and locals (secrets masked), library frames folded, and the request."""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest

from nightowl import App, Form, Request, render
from nightowl._debug import MASK, is_secret_name
from nightowl.testing import TestClient
from tests.browser import CHROMIUM, chromium, launch
from tests.live import live_server

HTML = {"accept": "text/html"}
KEY = "a-test-secret-key-that-is-long-enough"


def charge(amount: int, card_token: str) -> int:
    fee = amount // 10
    password = "hunter" + str(2)
    ratio = amount / (fee - fee)  # the bug
    return int(ratio) + len(password + card_token)


def _app(tmp_path: Path) -> App:
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "receipt.html").write_text(
        "<h1>Receipt</h1>\n<p>{{ order.id }}</p>\n<p>{{ 1 // order.count }}</p>\n"
    )
    app = App(debug=True, templates=tmp_path / "templates", secret_key=KEY, sessions=False)

    @app.post("/pay")
    def pay(
        amount: Annotated[int, Form()], note: Annotated[str, Form()], request: Request
    ) -> dict[str, int]:
        settings = {"SECRET_KEY": "do-not" + "-show", "DEBUG": True}
        return {"total": charge(amount, "tok_" + "live") + len(settings)}

    @app.get("/receipt")
    def receipt(request: Request) -> Any:
        return render("receipt.html", request, order={"id": 7, "count": 0})

    return app


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


def test_the_page_shows_source_locals_and_the_request(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path), raise_server_exceptions=False)
    with _quiet():
        response = client.post(
            "/pay?coupon=spring&api_key=k-123",
            data={"amount": "50", "note": "lunch"},
            headers={**HTML, "Authorization": "Bearer abc.def", "Cookie": "sid=s3cr3t"},
        )
    assert response.status_code == 500
    page = response.text
    text = _text(page)
    # The user's frames come first, most recent first, with the lines around each.
    ours = page.index("Your code, most recent call first")
    first_frame = page.index("in charge", ours)
    assert first_frame < page.index("in pay", ours) < page.index("frames of nightowl, Python")
    assert "fee = amount // 10" in text and "ratio = amount / (fee - fee)  # the bug" in text
    assert '<li class="current">    ratio = amount / (fee - fee)  # the bug</li>' in page
    # Locals, with secrets masked by name and by key.
    assert "amount</th><td>50" in page and "fee</th><td>5" in page
    assert "hunter2" not in page and "tok_live" not in page and "do-not-show" not in page
    assert f"password</th><td class=masked>{MASK}" in page
    assert f"&#x27;SECRET_KEY&#x27;: &#x27;{MASK}&#x27;" in page
    # Library frames are folded.
    assert re.search(r"<details><summary>\d+ frames of nightowl, Python", page)
    # The request: method, URL, headers (Cookie and Authorization masked), query, form.
    assert "POST http://testserver/pay?coupon=spring" in text
    assert "s3cr3t" not in page and "abc.def" not in page and "k-123" not in page
    assert f"authorization</th><td class=masked>{MASK}" in page
    assert "coupon</th><td>spring" in page
    assert "note</th><td>lunch" in page


def test_a_template_error_shows_the_template_and_line_on_top(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path), raise_server_exceptions=False)
    with _quiet():
        page = client.get("/receipt", headers=HTML).text
    top = page.index("In a template")
    assert top < page.index("Your code, most recent call first")
    template = str(tmp_path / "templates" / "receipt.html")
    assert f"{template}:3</h3>" in page
    assert '<li class="current">&lt;p&gt;{{ 1 // order.count }}&lt;/p&gt;</li>' in page


def test_secret_names() -> None:
    for name in (
        "password",
        "db_password",
        "SECRET_KEY",
        "api_key",
        "apikey",
        "x-api-key",
        "csrf_token",
        "authorization",
        "cookie",
        "session_id",
        "private_key",
    ):
        assert is_secret_name(name), name
    for name in ("amount", "user", "email", "count", "request", "keyboard_layout"):
        assert not is_secret_name(name), name


class _quiet:
    """Silence the error log of the 500 (the test reads the page)."""

    def __enter__(self) -> None:
        logging.disable(logging.CRITICAL)

    def __exit__(self, *args: object) -> None:
        logging.disable(logging.NOTSET)


@pytest.fixture
def chromium_page() -> Iterator[Any]:
    if chromium() is None or importlib.util.find_spec("playwright") is None:
        pytest.skip(f"no Chromium at {CHROMIUM}, or playwright is not installed")
    with launch() as browser:
        yield browser.new_page(viewport={"width": 1100, "height": 900})


@pytest.mark.slow
def test_the_debug_page_in_a_browser(tmp_path: Path, chromium_page: Any) -> None:
    page = chromium_page
    with _quiet(), live_server(_app(tmp_path)) as url:
        page.goto(f"{url}/receipt?order=7")
        heading = page.locator("h1").inner_text()
        assert heading == "ZeroDivisionError: integer division or modulo by zero"
        sections = page.locator("h2").all_inner_texts()
        assert sections[:2] == ["In a template", "Your code, most recent call first"]
        assert page.locator(".template h3").inner_text().endswith("receipt.html:3")
        assert page.locator(".template li.current").inner_text() == "<p>{{ 1 // order.count }}</p>"
        # The user's frames: the template's line, then the handler that rendered it; the
        # first shows its locals. Library frames are folded.
        ours = page.locator(".frame:not(.template):not(.library)")
        assert (
            ours.nth(0)
            .locator("h3")
            .inner_text()
            .endswith("receipt.html:3 in top-level template code")
        )
        assert "in receipt" in ours.nth(1).locator("h3").inner_text()
        assert ours.nth(0).locator("details table").is_visible()
        assert not ours.nth(1).locator("details table").is_visible()
        assert not page.locator(".library").first.is_visible()
        page.locator("summary", has_text="frames of nightowl").click()
        assert page.locator(".library").first.is_visible()
        assert page.get_by_text("Never turn debug on in production").is_visible()
        page.screenshot(path=str(tmp_path / "debug-page.png"), full_page=False)
    assert (tmp_path / "debug-page.png").stat().st_size > 10_000


def test_a_template_syntax_error_shows_the_template_and_line_on_top(tmp_path: Path) -> None:
    app = _app(tmp_path)
    (tmp_path / "templates" / "broken.html").write_text("<p>\n{% if %}\n</p>\n")

    @app.get("/broken")
    def broken(request: Request) -> Any:
        return render("broken.html", request)

    with _quiet():
        page = TestClient(app, raise_server_exceptions=False).get("/broken", headers=HTML).text
    assert page.index("In a template") < page.index("Your code, most recent call first")
    assert f"{tmp_path / 'templates' / 'broken.html'}:2</h3>" in page
    assert '<li class="current">{% if %}</li>' in page
