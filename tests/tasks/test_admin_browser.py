"""The admin's jobs page in a real headless Chromium, on either admin site of the app and
whichever of the task queue and the sites came first: a manager logs in, finds the page
on the index, reads the failed job's error, retries it, cancels a waiting job and
filters by status; a clerk sees the jobs without the buttons. No script error and no
Content-Security-Policy violation on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import PASSWORD
from tests.browser import NEEDS_CHROMIUM
from tests.live import live_server
from tests.tasks.admin_jobs import jobs_app
from tests.tasks.workapp import flaky_mark, mark

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the machine (the tests skip)
    expect = None  # type: ignore[assignment]

pytestmark = [pytest.mark.slow, *NEEDS_CHROMIUM]


def log_in(page: Any, site: str, username: str) -> None:
    page.goto(site + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()


def watch(page: Any, problems: list[str]) -> None:
    """Collect script errors, CSP violations and failed loads (but the favicon's 404)."""

    def console(message: Any) -> None:
        # A failed load shows here too, without its URL: the response handler names it.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def response(answer: Any) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            problems.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", response)


@pytest.mark.parametrize(
    ("tasks_first", "site_path"),
    [(True, "/admin"), (False, "/staff")],
    ids=["tasks-first-main-site", "admin-first-second-site"],
)
def test_the_jobs_page_in_a_browser(
    browser: Any, tmp_path: Path, tasks_first: bool, site_path: str
) -> None:
    app = jobs_app(f"sqlite:///{tmp_path / 'jobs.db'}", "memory", tasks_first=tasks_first)

    @app.on_startup
    async def some_jobs() -> None:
        await flaky_mark.enqueue(label="flaky", fail_times=99)  # job 1, fails three times
        await mark.options(delay=3600).enqueue(label="later")  # job 2, waits an hour

    problems: list[str] = []
    with live_server(app) as base:
        site = base + site_path
        context = browser.new_context(viewport={"width": 1300, "height": 800})
        page = context.new_page()
        page.set_default_timeout(15_000)
        watch(page, problems)
        log_in(page, site, "manager")
        page.click("text=Jobs")
        assert page.url == site + "/tasks/jobs"
        expect(page.locator("h1")).to_have_text("Jobs")
        failed = page.locator('tr[data-job="1"]')
        expect(failed.locator(".status")).to_have_text("failed")
        expect(failed.locator(".runs")).to_have_text("3")
        expect(failed.locator(".error")).to_have_text("RuntimeError: run 3 fails")
        expect(page.locator('tr[data-job="2"] .status')).to_have_text("queued")

        failed.get_by_role("button", name="Retry job 1").click()
        expect(page.locator(".messages")).to_contain_text("Job 1 queued again.")
        for _ in range(50):  # the retried run fails again within moments
            page.reload()
            if page.locator('tr[data-job="1"] .runs').inner_text() == "4":
                break
        expect(page.locator('tr[data-job="1"] .error')).to_have_text("RuntimeError: run 4 fails")

        page.get_by_role("button", name="Cancel job 2").click()
        expect(page.locator(".messages")).to_contain_text("Job 2 cancelled.")
        expect(page.locator('tr[data-job="2"] .status')).to_have_text("cancelled")
        expect(page.get_by_role("button", name="Cancel job 2")).to_have_count(0)

        page.click(".filters >> text=Failed")
        assert page.url == site + "/tasks/jobs?status=failed"
        expect(page.locator("#job_list tbody tr")).to_have_count(1)
        context.close()

        clerk = browser.new_context().new_page()
        watch(clerk, problems)
        log_in(clerk, site, "clerk")
        clerk.goto(site + "/tasks/jobs")
        expect(clerk.locator('tr[data-job="1"] .status')).to_have_text("failed")
        expect(clerk.locator("button", has_text="Retry")).to_have_count(0)
        clerk.context.close()
    assert problems == []
