"""The add, change, delete and history pages: derived forms, errors with values kept,
foreign keys and many-to-many selects, read-only pages, permissions and CSRF."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, select

from nightowl import App
from nightowl.admin import LogEntry
from nightowl.testing import TestClient
from tests.admin.blog import Comment, Post, Tag
from tests.admin.conftest import client_for, csrf_token, grant

Blog = tuple[App, dict[str, Any]]


def post_row(app: App, title: str) -> Post | None:
    with app.state.database.session() as db:
        query = select(Post).where(Post.title == title)
        found: Post | None = db.scalars(query).first()
        if found is not None:
            _ = [tag.name for tag in found.tags]
        return found


def tag_ids(app: App) -> dict[str, int]:
    with app.state.database.session() as db:
        return {tag.name: tag.id for tag in db.scalars(select(Tag))}


def test_add_with_an_error_then_fixed(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    page = boss.get("/admin/blog/post/add/")
    assert page.status_code == 200
    html = page.text
    assert 'name="title"' in html and 'maxlength="200"' in html
    assert '<textarea id="id_body" name="body"' in html  # a Text column
    assert '<select id="id_author_id" name="author_id" required>' in html
    assert '<option value="2">editor</option>' in html  # a foreign key as a select
    assert 'name="tags" multiple' in html and ">howto</option>" in html
    assert '<option value="review">' in html  # an enum
    assert 'name="created_at"' not in html  # read-only: shown, not an input
    assert "Created at" in html
    tags = tag_ids(app)
    form = {
        "csrf_token": csrf_token(html),
        "title": "",
        "body": "typed <b>text</b>",
        "status": "live",
        "author_id": str(rows["editor"].id),
        "tags": [str(tags["news"])],
        "_save": "",
    }
    invalid = boss.post("/admin/blog/post/add/", data=form)
    assert invalid.status_code == 422
    assert "This field is required." in invalid.text
    assert "typed &lt;b&gt;text&lt;/b&gt;" in invalid.text  # the value is kept, escaped
    assert f'<option value="{tags["news"]}" selected>news</option>' in invalid.text
    assert f'<option value="{rows["editor"].id}" selected>editor</option>' in invalid.text
    assert post_row(app, "") is None
    form["title"] = "A new post"
    form["csrf_token"] = csrf_token(invalid.text)
    saved = boss.post("/admin/blog/post/add/", data=form)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/admin/blog/post/"
    post = post_row(app, "A new post")
    assert post is not None and post.author_id == rows["editor"].id
    assert [tag.name for tag in post.tags] == ["news"]
    assert post.published is False and post.body == "typed <b>text</b>"
    listing = boss.get("/admin/blog/post/").text
    assert "A new post” was added successfully." in listing


def test_a_missing_foreign_key_or_tag_is_a_field_error(blog: Blog, boss: TestClient) -> None:
    html = boss.get("/admin/blog/post/add/").text
    form: dict[str, Any] = {
        "csrf_token": csrf_token(html),
        "title": "x",
        "status": "draft",
        "author_id": "999",
    }
    response = boss.post("/admin/blog/post/add/", data=form)
    assert response.status_code == 422
    assert "Select a valid choice" in response.text
    form.update(author_id="1", tags=["12345"], csrf_token=csrf_token(response.text))
    response = boss.post("/admin/blog/post/add/", data=form)
    assert response.status_code == 422 and "Select valid choices" in response.text
    form.update(tags=["abc"], csrf_token=csrf_token(response.text))
    assert boss.post("/admin/blog/post/add/", data=form).status_code == 422


def test_change_with_continue_and_the_history_diff(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][0]
    page = boss.get(f"/admin/blog/post/{post_id}/change/")
    assert page.status_code == 200
    assert 'value="Hello world"' in page.text
    tags = tag_ids(app)
    form = {
        "csrf_token": csrf_token(page.text),
        "title": "Hello again",
        "body": "first post here",
        "status": "live",
        "published": "on",
        "author_id": str(rows["boss"].id),
        "tags": [str(tags["news"]), str(tags["howto"])],
        "_continue": "",
    }
    saved = boss.post(
        f"/admin/blog/post/{post_id}/change/", data=form, headers={"X-Request-ID": "req-42"}
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/admin/blog/post/{post_id}/change/"
    history = boss.get(f"/admin/blog/post/{post_id}/history/").text
    assert "<del>Hello world</del> → <ins>Hello again</ins>" in history
    assert "req-42" in history and ">boss<" in history
    with app.state.database.session() as db:
        entry = db.scalars(select(LogEntry).where(LogEntry.action == "change")).one()
        assert entry.changes["title"] == ["Hello world", "Hello again"]
        assert sorted(entry.changes["tags"][1]) == sorted([tags["news"], tags["howto"]])
        assert entry.content_type == "blog.post" and entry.object_id == str(post_id)
    index = boss.get("/admin/").text
    assert "Hello again" in index.split("Recent actions", 1)[1]
    form.pop("_continue")
    form["_addanother"] = ""
    form["csrf_token"] = csrf_token(boss.get(f"/admin/blog/post/{post_id}/change/").text)
    again = boss.post(f"/admin/blog/post/{post_id}/change/", data=form)
    assert again.headers["location"] == "/admin/blog/post/add/"


def test_clearing_a_field_and_unticking_a_box(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][4]  # "Last one", published
    page = boss.get(f"/admin/blog/post/{post_id}/change/").text
    form = {
        "csrf_token": csrf_token(page),
        "title": "Last one",
        "body": "",
        "status": "draft",
        "author_id": str(rows["editor"].id),
    }
    assert boss.post(f"/admin/blog/post/{post_id}/change/", data=form).status_code == 303
    post = post_row(app, "Last one")
    assert post is not None and post.published is False and post.tags == []


def test_read_only_staff_see_the_page_and_a_forged_post_is_403(blog: Blog) -> None:
    app, rows = blog
    grant(app, rows["editor"], "blog.view_post")
    client = client_for(app, "editor")
    post_id = rows["posts"][0]
    page = client.get(f"/admin/blog/post/{post_id}/change/")
    assert page.status_code == 200
    assert "View post" in page.text and ">Save<" not in page.text
    assert 'name="title"' not in page.text and "Hello world" in page.text
    token = csrf_token(page.text)
    forged = client.post(
        f"/admin/blog/post/{post_id}/change/",
        data={"csrf_token": token, "title": "pwned", "status": "live", "author_id": "1"},
    )
    assert forged.status_code == 403
    assert client.post("/admin/blog/post/add/", data={"csrf_token": token}).status_code == 403
    assert client.get("/admin/blog/post/add/").status_code == 403
    assert client.get(f"/admin/blog/post/{post_id}/delete/").status_code == 403
    assert (
        client.post(f"/admin/blog/post/{post_id}/delete/", data={"csrf_token": token}).status_code
        == 403
    )
    assert post_row(app, "Hello world") is not None
    client.close()


def test_a_post_without_the_csrf_token_is_refused(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][0]
    data = {"title": "pwned", "status": "live", "author_id": "1"}
    assert boss.post(f"/admin/blog/post/{post_id}/change/", data=data).status_code == 403
    assert boss.post(f"/admin/blog/post/{post_id}/delete/").status_code == 403
    assert post_row(app, "Hello world") is not None


def test_delete_lists_the_related_rows(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][0]
    page = boss.get(f"/admin/blog/post/{post_id}/delete/")
    assert page.status_code == 200
    assert "Comment: First!" in page.text and "Comment: Nice post" in page.text
    assert post_row(app, "Hello world") is not None  # a GET changes nothing
    done = boss.post(
        f"/admin/blog/post/{post_id}/delete/", data={"csrf_token": csrf_token(page.text)}
    )
    assert done.status_code == 303
    assert post_row(app, "Hello world") is None
    with app.state.database.session() as db:
        assert db.scalars(select(Comment)).all() == []
        entry = db.scalars(select(LogEntry).where(LogEntry.action == "delete")).one()
        assert entry.object_repr == "Hello world"


def test_unknown_objects_are_404(blog: Blog, boss: TestClient) -> None:
    for path in (
        "/admin/blog/post/9999/change/",
        "/admin/blog/post/abc/change/",
        "/admin/blog/post/9999/history/",
        "/admin/blog/post/9999/delete/",
    ):
        assert boss.get(path).status_code == 404, path


def test_change_pages_in_turn_each_show_their_own_row(blog: Blog, boss: TestClient) -> None:
    # The object's query is made once per admin and reused with each page's key.
    app, rows = blog
    statements: list[str] = []
    engine = app.state.database.async_engine.sync_engine

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    pages, counts = [], []
    event.listen(engine, "before_cursor_execute", count)
    try:
        for key in (rows["posts"][0], rows["posts"][1], rows["posts"][0]):
            statements.clear()
            pages.append(boss.get(f"/admin/blog/post/{key}/change/").text)
            counts.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert 'value="Hello world"' in pages[0] and 'value="Hello world"' in pages[2]
    assert 'value="Second thoughts"' in pages[1]
    assert "Hello world" not in pages[1]
    assert counts[0] == counts[1] == counts[2], counts


def test_the_xss_title_is_text_on_every_page(blog: Blog, boss: TestClient) -> None:
    _, rows = blog
    post_id = rows["posts"][2]
    for path in (
        f"/admin/blog/post/{post_id}/change/",
        f"/admin/blog/post/{post_id}/delete/",
        f"/admin/blog/post/{post_id}/history/",
    ):
        page = boss.get(path).text
        assert "<script>alert(1)</script>" not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path
    assert (
        re.search(r"<script(?! src=\"/admin/static/admin/admin\.js\" defer></script>)", page)
        is None
    )
