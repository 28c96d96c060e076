"""The admin in a real headless Chromium, over the blog, on SQLite and PostgreSQL: log
in, add a post with an error then fixed, search, filter, sort, paginate, bulk delete,
a custom action, the history diff; read-only staff, non-staff users, forged posts,
hostile parameters, an XSS title. Screenshots of the list and the change page go to
``docs/admin/``, so the documentation shows what the admin looks like today."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.admin.conftest import PASSWORD, add_rows, grant, make_blog
from tests.browser import NEEDS_CHROMIUM
from tests.live import live_server

DOCS = Path(__file__).parents[2] / "docs" / "admin"

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the machine (the tests skip)
    expect = None  # type: ignore[assignment]

pytestmark = [pytest.mark.slow, *NEEDS_CHROMIUM]


def new_page(browser: Any, problems: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    page.on("console", lambda message: _console(problems, message))
    return page


def _console(problems: list[str], message: Any) -> None:
    # The 400/403/404 answers the test asks for show as "Failed to load resource"; any
    # other error (a Content-Security-Policy violation, a script error) is a problem.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)


def log_in(page: Any, base: str, username: str, start: str = "/admin/") -> None:
    page.goto(base + start)
    assert "/auth/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_load_state()


def results(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("#result_list tbody th a").all_inner_texts()]


def test_the_admin_in_a_browser(browser: Any, empty_database_url: str) -> None:
    app, _auth, _admin = make_blog(empty_database_url)
    rows = add_rows(app)
    grant(app, rows["editor"], "blog.view_post")
    problems: list[str] = []
    with live_server(app) as base:
        page = new_page(browser, problems)
        log_in(page, base, "boss", "/admin/blog/post/")
        assert page.url == base + "/admin/blog/post/"  # next= kept through the login
        expect(page.locator("h1")).to_have_text("Select post to change")

        # The XSS title is text, and nothing ran.
        expect(page.locator("#result_list")).to_contain_text("<script>alert(1)</script>")

        # Add a post: an error first, then fixed.
        page.click("text=Add post")
        page.fill("#id_body", "written in a browser")
        page.select_option("#id_author_id", label="editor")
        page.select_option("#id_tags", label="news")
        page.click("button[name=_save]")
        expect(page.locator("#id_title-error")).to_contain_text("This field is required.")
        expect(page.locator("#id_body")).to_have_value("written in a browser")
        page.fill("#id_title", "Browser post")
        page.click("button[name=_save]")
        expect(page.locator(".messages")).to_contain_text("was added successfully")
        assert "6 results" in page.locator(".count").inner_text()

        # Search, filter, sort, paginate: the state stays in the URL.
        page.fill("#searchbar", "howto")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"q=howto"))
        assert results(page) == ["Howto: admin"]
        page.goto(base + "/admin/blog/post/")
        page.locator(".filters a", has_text="Yes").first.click()
        page.wait_for_url(re.compile(r"published=1"))
        assert "2 results" in page.locator(".count").inner_text()
        page.goto(base + "/admin/blog/post/")
        page.click("#result_list thead a:text-is('Title')")
        page.wait_for_url(re.compile(r"o=title"))
        assert results(page)[0] == "<script>alert(1)</script>"
        page.click(".paginator a:text-is('2')")
        page.wait_for_url(re.compile(r"o=title&p=2|p=2&o=title"))
        assert results(page) == ["Howto: admin", "Last one", "Second thoughts"]
        DOCS.mkdir(parents=True, exist_ok=True)
        if empty_database_url.startswith("sqlite"):
            page.goto(base + "/admin/blog/post/?o=title")
            page.screenshot(path=str(DOCS / "change_list.png"))

        # A custom action on one row.
        page.goto(base + "/admin/blog/post/?o=-title")
        page.locator("tr", has_text="Second thoughts").locator("input.action-select").check()
        expect(page.locator("[data-action-counter]")).to_have_text("1 of 3 selected")
        page.select_option("#action-select", label="Publish the selected posts")
        page.click(".actions button")
        expect(page.locator(".messages")).to_contain_text("done (1 selected)")

        # Bulk delete, with the confirmation listing related comments.
        page.goto(base + "/admin/blog/post/?published=1")
        page.check("#action-toggle")
        page.select_option("#action-select", value="delete_selected")
        page.click(".actions button")
        expect(page.locator("h1")).to_have_text("Are you sure?")
        expect(page.locator(".deleted-objects")).to_contain_text("Comment: First!")
        page.click("text=Yes, I'm sure")
        expect(page.locator(".messages")).to_contain_text("Deleted 3 posts.")

        # A comment whose post is found by the autocomplete box.
        page.goto(base + "/admin/blog/comment/add/")
        page.fill("#id_text", "Found it")
        page.fill("#id_post_id_search", "howto")
        expect(page.locator("#id_post_id option", has_text="Howto: admin")).to_have_count(1)
        page.select_option("#id_post_id", label="Howto: admin")
        page.click("button[name=_save]")
        expect(page.locator(".messages")).to_contain_text("Found it” was added successfully")
        expect(page.locator("#result_list")).to_contain_text("Howto: admin")

        # The history diff of a change.
        page.goto(base + "/admin/blog/post/?o=title")
        page.click("#result_list tbody a:text-is('Browser post')")
        page.fill("#id_title", "Browser post, edited")
        page.locator("#comments-group input[name$='-text']").last.fill("An inline comment")
        page.click("button[name=_continue]")
        expect(page.locator(".messages")).to_contain_text("You may edit it again below")
        if empty_database_url.startswith("sqlite"):
            page.screenshot(path=str(DOCS / "change_form.png"), full_page=True)
        page.click("text=History")
        expect(page.locator("dl.diff")).to_contain_text("Browser post → Browser post, edited")
        expect(page.locator("dl.diff")).to_contain_text("An inline comment")

        # Export what the list shows; import with a dry run, then confirm.
        page.goto(base + "/admin/blog/post/?q=browser")
        with page.expect_download() as info:
            page.click("text=Export CSV")
        exported = Path(info.value.path()).read_text()
        assert exported.splitlines()[0].startswith("id,title,")
        assert "Browser post, edited" in exported and "Howto" not in exported
        page.goto(base + "/admin/blog/tag/import/")
        page.set_input_files(
            "#id_file",
            files=[{"name": "tags.csv", "mimeType": "text/csv", "buffer": b"name\nfrom-browser\n"}],
        )
        page.click("text=Preview the import")
        expect(page.locator(".import-summary")).to_contain_text("1 to create")
        page.click("text=Confirm the import")
        expect(page.locator(".messages")).to_contain_text("Imported: 1 created, 0 updated.")
        expect(page.locator("#result_list")).to_contain_text("from-browser")

        # Hostile parameters and a forged POST without the token.
        assert page.goto(base + "/admin/blog/post/?o=password").status == 400
        assert page.goto(base + "/admin/blog/post/?author=1%20or%201=1").status == 400
        forged = page.request.post(
            base + "/admin/blog/post/", form={"action": "delete_selected", "post": "yes"}
        )
        assert forged.status == 403
        page.context.close()

        # A read-only editor: no save button, and a forged POST with the token is a 403.
        editor = new_page(browser, problems)
        log_in(editor, base, "editor")
        editor.click("text=Posts")
        editor.click("#result_list tbody a:text-is('Howto: admin')")
        expect(editor.locator("h1")).to_have_text("View post")
        assert editor.locator("button[name=_save]").count() == 0
        token = editor.locator("input[name=csrf_token]").first.get_attribute("value")
        change_url = editor.url
        response = editor.request.post(change_url, form={"csrf_token": token, "title": "pwned"})
        assert response.status == 403
        editor.context.close()

        # A user who is not staff is sent to the login page.
        reader = new_page(browser, problems)
        log_in(reader, base, "reader")
        reader.goto(base + "/admin/")
        assert "/auth/login?next=%2Fadmin%2F" in reader.url
        reader.context.close()
    assert problems == []
    app.state.database.close()
