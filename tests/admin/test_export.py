"""Exports of the change list, filtered as the list is, in CSV and JSON, streamed in
batches."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest

from nightowl import App
from nightowl.admin import _export
from nightowl.testing import TestClient
from tests.admin.conftest import client_for

Blog = tuple[App, dict[str, Any]]


def test_csv_of_the_filtered_list(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_export, "BATCH", 2)  # several batches for five rows
    listing = boss.get("/admin/blog/post/?published=0").text
    assert 'href="/admin/blog/post/export.csv?published=0"' in listing
    response = boss.get("/admin/blog/post/export.csv?published=0")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="blog-post.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["title"] for row in rows] == [
        "Second thoughts",
        "<script>alert(1)</script>",
        "Howto: admin",
    ]
    assert rows[0]["status"] == "draft" and rows[0]["published"] == "False"
    assert rows[0]["created_at"] == "2026-02-01T09:00:00"
    everything = boss.get("/admin/blog/post/export.csv").text
    assert len(list(csv.DictReader(io.StringIO(everything)))) == 5


def test_json_export_and_formula_cells(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.admin.blog import Post

    app, rows = blog
    with app.state.database.session() as db:
        db.add(Post(title="=HYPERLINK(1)", author_id=rows["boss"].id))
        db.commit()
    monkeypatch.setattr(_export, "BATCH", 4)
    data = boss.get("/admin/blog/post/export.json").json()
    assert len(data) == 6 and data[0]["title"] == "Hello world"
    assert data[-1]["title"] == "=HYPERLINK(1)"  # JSON keeps the text as it is
    assert "password" not in json.dumps(data)
    text = boss.get("/admin/blog/post/export.csv?q=hyperlink").text
    assert "'=HYPERLINK(1)" in text
    assert boss.get("/admin/blog/post/export.csv?o=password").status_code == 400
    assert boss.get("/admin/blog/post/export.json?nope=1").status_code == 400


def test_exports_need_the_view_permission(blog: Blog) -> None:
    client = client_for(blog[0], "editor")
    assert client.get("/admin/blog/post/export.csv").status_code == 403
    client.close()
    anonymous = client_for(blog[0], None)
    assert anonymous.get("/admin/blog/post/export.json").status_code == 303
    anonymous.close()


def test_the_export_link_of_a_later_page_exports_the_whole_list(
    blog: Blog, boss: TestClient
) -> None:
    from tests.admin.blog import Post

    app, rows = blog
    with app.state.database.session() as db:
        db.add_all(Post(title=f"Draft note {n}", author_id=rows["boss"].id) for n in range(5))
        db.add(Post(title="Published note", author_id=rows["boss"].id, published=True))
        db.commit()
    query = "published=0&q=note&o=-title"  # five drafts, three a page
    first = boss.get(f"/admin/blog/post/?{query}").text
    following = html.unescape(re.findall(r'<a href="([^"]+)" rel="next">', first)[0])
    assert "p=2" in following and "k=" in following
    second = boss.get(f"/admin/blog/post/{following}").text
    exports = [html.unescape(url) for url in re.findall(r'href="([^"]*/export\.[^"]*)"', second)]
    assert exports == [
        f"/admin/blog/post/export.csv?{query}",
        f"/admin/blog/post/export.json?{query}",
    ]
    titles = [row["title"] for row in boss.get(exports[1]).json()]
    assert sorted(titles) == [f"Draft note {n}" for n in range(5)]
