"""Import from CSV and JSON: the dry run shows what would change and each row's errors;
the confirmation saves every row in one transaction, or none."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select

from nightowl import App
from nightowl.admin import LogEntry
from nightowl.testing import TestClient
from tests.admin.blog import Post
from tests.admin.conftest import client_for, csrf_token

Blog = tuple[App, dict[str, Any]]
URL = "/admin/blog/post/import/"


def posts(app: App) -> dict[str, Post]:
    with app.state.database.session() as db:
        return {post.title: post for post in db.scalars(select(Post))}


def upload(client: TestClient, name: str, content: str) -> Any:
    token = csrf_token(client.get(URL).text)
    files = {"file": (name, content.encode(), "text/plain")}
    return client.post(URL, data={"csrf_token": token}, files=files)


def confirm(client: TestClient, preview: str) -> Any:
    payload = re.search(r'name="payload" value="([^"]*)"', preview, re.DOTALL)
    kind = re.search(r'name="kind" value="([^"]*)"', preview)
    assert payload and kind, preview
    import html

    data = {
        "csrf_token": csrf_token(preview),
        "payload": html.unescape(payload.group(1)),
        "kind": kind.group(1),
        "confirm": "yes",
    }
    return client.post(URL, data=data)


def test_a_csv_dry_run_then_the_import(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    hello = rows["posts"][0]
    editor = rows["editor"].id
    content = (
        "id,title,status,author_id,published,created_at\n"
        f"{hello},Hello world (updated),live,{rows['boss'].id},True,2020-01-01T00:00:00\n"
        f",Imported one,draft,{editor},False,\n"
        f",\"=cmd|' /C calc'!A0\",review,{editor},,\n"
    )
    preview = upload(boss, "posts.csv", content)
    assert preview.status_code == 200, preview.text
    assert "1 to create" not in preview.text  # two are new
    assert "2 to create, 1 to update, 0 unchanged, 0 with errors" in preview.text
    assert "<del>Hello world</del> → <ins>Hello world (updated)</ins>" in preview.text
    assert "Hello world" in posts(app) and "Imported one" not in posts(app)  # a dry run
    done = confirm(boss, preview.text)
    assert done.status_code == 303 and done.headers["location"] == "/admin/blog/post/"
    saved = posts(app)
    assert "Hello world (updated)" in saved and "Imported one" in saved
    assert saved["Imported one"].author_id == editor
    assert saved["Hello world (updated)"].created_at.year == 2026  # read-only: ignored
    assert "Imported: 2 created, 1 updated." in boss.get("/admin/blog/post/").text
    with app.state.database.session() as db:
        actions = db.scalars(select(LogEntry.action).order_by(LogEntry.id)).all()
    assert sorted(actions) == ["add", "add", "change"]


def test_errors_per_row_and_nothing_saved(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    data = [
        {"title": "Fine", "author_id": rows["boss"].id},
        {"title": "x" * 300, "author_id": rows["boss"].id},
        {"title": "No author"},
        {"title": "Ghost author", "author_id": 999},
        {"title": "Bad status", "author_id": rows["boss"].id, "status": "deleted"},
    ]
    preview = upload(boss, "posts.json", json.dumps(data))
    assert preview.status_code == 422
    text = preview.text
    assert "1 to create, 0 to update, 0 unchanged, 4 with errors" in text
    assert "title: String should have at most 200 characters" in text
    assert "author_id: This field is required." in text
    assert "author_id: no User with id 999." in text
    assert "Confirm the import" not in text
    assert "Fine" not in posts(app)


def test_the_whole_import_is_one_transaction(blog: Blog, boss: TestClient) -> None:
    app = blog[0]
    url = "/admin/blog/tag/import/"
    token = csrf_token(boss.get(url).text)
    content = json.dumps([{"name": "alpha"}, {"name": "news"}])  # "news" exists already
    files = {"file": ("tags.json", content.encode(), "application/json")}
    preview = boss.post(url, data={"csrf_token": token}, files=files)
    assert preview.status_code == 200  # the dry run cannot know
    payload = re.search(r'name="payload" value="([^"]*)"', preview.text)
    assert payload is not None
    import html

    data = {
        "csrf_token": csrf_token(preview.text),
        "payload": html.unescape(payload.group(1)),
        "kind": "json",
        "confirm": "yes",
    }
    refused = boss.post(url, data=data)
    assert refused.status_code == 400
    assert "nothing was imported" in refused.text
    from tests.admin.blog import Tag

    with app.state.database.session() as db:
        assert sorted(db.scalars(select(Tag.name)).all()) == ["howto", "news"]


def test_bad_files(blog: Blog, boss: TestClient) -> None:
    assert (
        "Choose a CSV or JSON file"
        in boss.post(URL, data={"csrf_token": csrf_token(boss.get(URL).text)}).text
    )
    for name, content, message in [
        ("posts.json", "{not json", "not valid JSON"),
        ("posts.json", '{"title": "x"}', "a list of objects"),
        ("posts.csv", "title,nope\nx,y\n", "No field named nope"),
        ("posts.csv", "title\nx,y\n", "more cells than the header"),
    ]:
        response = upload(boss, name, content)
        assert response.status_code == 400 and message in response.text, name
    token = csrf_token(boss.get(URL).text)
    lost = boss.post(
        URL, data={"csrf_token": token, "payload": "x", "kind": "xml", "confirm": "yes"}
    )
    assert lost.status_code == 400
    with blog[0].state.database.session() as db:
        assert db.scalar(select(func.count()).select_from(Post)) == 5


def test_imports_need_permissions_and_csrf(blog: Blog, boss: TestClient) -> None:
    editor = client_for(blog[0], "editor")
    assert editor.get(URL).status_code == 403
    editor.close()
    files = {"file": ("posts.csv", b"title\nx\n", "text/csv")}
    assert boss.post(URL, files=files).status_code == 403  # no CSRF token


def test_a_file_too_big_to_confirm_is_refused_up_front(blog: Blog, boss: TestClient) -> None:
    """The confirmation posts the file back as a form field, so the app's
    ``max_field_size`` (1 MiB by default) bounds what an import takes: a bigger file is
    refused with a 400 that says so, not accepted by the dry run and then refused."""
    app, _ = blog
    app.max_field_size = 64 * 1024
    big = "title,body,author_id\n" + "".join(f"post {i},{'x' * 200},1\n" for i in range(400))
    refused = upload(boss, "big.csv", big)  # about 86 KB
    assert refused.status_code == 400
    assert "larger than 64 KB" in refused.text and "max_field_size" in refused.text
    assert len(posts(app)) == 5
    app.max_field_size = 256 * 1024
    preview = upload(boss, "big.csv", big)
    assert preview.status_code == 200, preview.text[:500]
    done = confirm(boss, preview.text)
    assert done.status_code == 303, done.text[:500]
    assert len(posts(app)) == 5 + 400
