"""The autocomplete endpoint and widget of ``autocomplete_fields``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nightowl import App
from nightowl.admin import Admin, _autocomplete
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.admin.blog import Post
from tests.admin.conftest import client_for, csrf_token
from tests.statements import recorded_statements

Blog = tuple[App, dict[str, Any]]
URL = "/admin/blog/comment/autocomplete/post/"


def test_search_and_pages(blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _, rows = blog
    found = boss.get(URL, params={"term": "hello"}).json()
    assert found == {
        "results": [{"id": str(rows["posts"][0]), "text": "Hello world"}],
        "pagination": {"more": False},
    }
    monkeypatch.setattr(_autocomplete, "PAGE_SIZE", 2)
    first = boss.get(URL).json()  # the post admin's ordering: newest first
    assert [r["text"] for r in first["results"]] == ["Last one", "Howto: admin"]
    assert first["pagination"]["more"] is True
    third = boss.get(URL, params={"page": "3"}).json()
    assert [r["text"] for r in third["results"]] == ["Hello world"]
    assert third["pagination"]["more"] is False


def test_bad_requests(blog: Blog, boss: TestClient) -> None:
    assert boss.get("/admin/blog/comment/autocomplete/text/").status_code == 404
    assert boss.get("/admin/blog/post/autocomplete/author/").status_code == 404
    for params in ({"page": "0"}, {"page": "x"}, {"term": "a" * 300}, {"nope": "1"}):
        assert boss.get(URL, params=params).status_code == 400, params
    editor = client_for(blog[0], "editor")
    assert editor.get(URL, params={"term": "a"}).status_code == 403
    editor.close()


def test_the_widget_on_the_form(blog: Blog, boss: TestClient) -> None:
    rows = blog[1]
    page = boss.get("/admin/blog/comment/add/").text
    assert f'data-url="{URL}"' in page and 'data-autocomplete-for="id_post_id"' in page
    assert "Hello world" not in page  # no select of every post
    post_id = rows["posts"][1]
    form = {"csrf_token": csrf_token(page), "text": "Great", "post_id": str(post_id)}
    response = boss.post("/admin/blog/comment/add/", data=form)
    assert response.status_code == 303
    listing = boss.get("/admin/blog/comment/?q=great").text
    found = re.search(r'href="/admin/blog/comment/(\d+)/change/"', listing)
    assert found is not None
    comment_id = found.group(1)
    change = boss.get(f"/admin/blog/comment/{comment_id}/change/").text
    assert f'<option value="{post_id}" selected>Second thoughts</option>' in change


def test_the_change_page_reads_the_chosen_row_with_the_object(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    page = boss.get("/admin/blog/comment/")
    found = re.search(r'href="/admin/blog/comment/(\d+)/change/"', page.text)
    assert found is not None
    with recorded_statements(app.state.database) as statements:
        change = boss.get(f"/admin/blog/comment/{found.group(1)}/change/").text
    assert f'<option value="{rows["posts"][0]}" selected>Hello world</option>' in change
    reads = [s for s in statements if "FROM adm_comment" in s or "FROM adm_post" in s]
    assert len(reads) == 1 and "JOIN adm_post" in reads[0], statements


def test_a_form_shown_again_selects_the_posted_row(blog: Blog, boss: TestClient) -> None:
    # The change page shows the row loaded with the object; a form shown again with an
    # error shows the row that was posted instead.
    rows = blog[1]
    page = boss.get("/admin/blog/comment/").text
    found = re.search(r'href="/admin/blog/comment/(\d+)/change/"', page)
    assert found is not None
    url = f"/admin/blog/comment/{found.group(1)}/change/"
    change = boss.get(url).text
    other = rows["posts"][1]
    form = {"csrf_token": csrf_token(change), "text": "x" * 501, "post_id": str(other)}
    response = boss.post(url, data=form)
    assert response.status_code == 422
    assert f'<option value="{other}" selected>Second thoughts</option>' in response.text
    assert "Hello world</option>" not in response.text


def test_only_many_to_one_relationships() -> None:
    from tests.admin.test_site import bare_app

    with pytest.raises(ImproperlyConfigured, match="many-to-one"):
        Admin(bare_app()).register(Post, autocomplete_fields=["tags"])
