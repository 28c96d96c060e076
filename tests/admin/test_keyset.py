"""Keyset pagination of the change list: next and previous links that carry a signed
boundary key, tampered keys answered with a 400, and deep pages of a big unfiltered
list read from boundary keys taken once (the anchors)."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from nightowl import App
from nightowl.admin import _anchors as anchors_module
from nightowl.admin import _changelist as changelist_module
from nightowl.testing import TestClient
from tests.admin.blog import Post
from tests.admin.test_changelist import titles
from tests.statements import recorded_statements

Blog = tuple[App, dict[str, Any]]
LIST = "/admin/blog/post/"


def _add_posts(app: App, author_id: int, count: int, start: datetime) -> None:
    with app.state.database.session() as db:
        db.add_all(
            Post(title=f"Post {n:02d}", author_id=author_id, created_at=start + timedelta(hours=n))
            for n in range(count)
        )
        db.commit()


def _expected(app: App) -> list[str]:
    """Every title in the list's order: newest first, the key breaking ties."""
    with app.state.database.session() as db:
        posts = sorted(db.query(Post).all(), key=lambda p: (p.created_at, p.id), reverse=True)
    return [html.escape(p.title, quote=False) for p in posts]


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return html.unescape(found.group(1)) if found else None


def test_next_and_previous_links_walk_the_list_by_key(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 9, datetime(2025, 1, 1))  # 14 posts, 3 a page
    forward: list[str] = []
    url: str | None = ""
    pages = []
    with recorded_statements(app.state.database) as statements:
        while url is not None:
            page = boss.get(LIST + url)
            assert page.status_code == 200
            pages.append(re.search(r'aria-current="page">(\d+)<', page.text))
            forward += titles(page.text)
            url = _link(page.text, "next")
            assert url is None or "k=" in url
    assert forward == _expected(app)
    assert [m.group(1) for m in pages if m] == ["1", "2", "3", "4", "5"]
    # Page 1 by number, pages 2 to 5 seek past the key of the page before.
    seeks = [s for s in statements if "(adm_post.created_at, adm_post.id) < (" in s]
    assert len(seeks) == 4, statements
    backward: list[str] = []
    url = _link(page.text, "prev")
    while url != "?p=1":  # page 1 has a plain link
        assert url is not None and "k=" in url
        page = boss.get(LIST + url)
        assert page.status_code == 200
        backward = titles(page.text) + backward
        url = _link(page.text, "prev")
    assert backward == _expected(app)[3:12]


def test_a_key_keeps_its_place_when_rows_are_added(blog: Blog, boss: TestClient) -> None:
    """New rows at the top shift page numbers; the next link still follows the last row
    the user saw, where ``?p=2`` would show one of them again."""
    app, rows = blog
    first = boss.get(LIST).text
    seen = titles(first)
    _add_posts(app, rows["boss"].id, 1, datetime(2027, 1, 1))  # newest: top of page 1
    after = titles(boss.get(LIST + str(_link(first, "next"))).text)
    assert after == _expected(app)[4:6]
    assert not set(after) & set(seen)
    assert titles(boss.get(LIST + "?p=2").text)[0] == seen[-1]


def test_a_tampered_key_is_a_400(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 9, datetime(2025, 1, 1))
    following = str(_link(boss.get(LIST).text, "next"))
    assert boss.get(LIST + following).status_code == 200
    token = following.split("k=", 1)[1]
    body, _, mac = token.partition(".")
    hostile = [
        following.replace("p=2", "p=3"),  # the key of page 2 sent for page 3
        following + "&published=1",  # made for another list
        following.replace("k=", "o=title&k="),  # another order
        f"?p=2&k={body}",  # no signature
        f"?p=2&k={body[:-2]}AA.{mac}",  # the key changed
        "?p=2&k=1'%3B+drop+table+adm_post%3B--",
        "?p=2&k=.",
        f"?p=2&k={token}&k={token}",
    ]
    for query in hostile:
        response = boss.get(LIST + query)
        assert response.status_code == 400, query
        assert "damaged" in response.text or "twice" in response.text or "Unknown" in response.text
    assert boss.get(LIST + following).status_code == 200  # the table is still there


def test_links_other_than_the_neighbours_are_page_numbers(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 25, datetime(2025, 1, 1))  # 30 posts: 10 pages
    page = boss.get(LIST + "?p=5").text
    links = dict(re.findall(r'<a href="([^"]+)"(?: rel="\w+")?>(\d+)</a>', page))
    numbers = {number: html.unescape(url) for url, number in links.items()}
    assert set(numbers) == {"1", "2", "3", "4", "6", "7", "9", "10"}
    assert "k=" in numbers["4"] and "k=" in numbers["6"]
    assert all("k=" not in numbers[n] for n in ("1", "2", "3", "7", "9", "10"))
    # A filter link starts the list again: no page, no key.
    assert 'href="?p=5' not in page.split('class="filters"', 1)[1]
    assert "k=" not in page.split('class="filters"', 1)[1]


def test_a_search_from_a_page_reached_by_key_starts_again(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 9, datetime(2025, 1, 1))
    following = str(_link(boss.get(LIST + "?published=0").text, "next"))
    assert "k=" in following
    page = boss.get(LIST + following).text
    form = page.split('class="search"', 1)[1].split("</form>", 1)[0]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert hidden == {"published": "0"}
    assert boss.get(LIST, params={"q": "Post", **hidden}).status_code == 200


@pytest.fixture
def anchored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every list counts as big, anchors every 2 pages (6 rows), deep pages from row 1."""
    monkeypatch.setattr(changelist_module, "ANCHORS_ABOVE", 0)
    monkeypatch.setattr(changelist_module, "DEFERRED_FROM", 1)
    monkeypatch.setattr(anchors_module, "ANCHOR_EVERY", 2)


def _anchor_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "row_number()" in s or "WITH RECURSIVE" in s]


@pytest.mark.usefixtures("anchored")
def test_page_numbers_read_from_the_anchors_show_the_pages_offsets_do(
    blog: Blog, boss: TestClient
) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 26, datetime(2025, 1, 1))  # 31 posts: 11 pages
    expected = _expected(app)
    with recorded_statements(app.state.database) as statements:
        shown = {n: titles(boss.get(f"{LIST}?p={n}").text) for n in (2, 5, 6, 7, 10, 11, 4)}
    for number, got in shown.items():
        assert got == expected[(number - 1) * 3 : number * 3], number
    # The anchors are taken once, then kept; every page seeks to one (no deferred join).
    assert len(_anchor_queries(statements)) == 1, statements
    seeks = [s for s in statements if "(adm_post.created_at, adm_post.id) <= (" in s]
    assert len(seeks) >= 7, statements
    assert not any("IN (SELECT adm_post.id" in s for s in statements), statements
    last = boss.get(f"{LIST}?p=11").text
    assert '<span class="count">31 results</span>' in last
    assert titles(last) == [expected[30]]
    assert boss.get(f"{LIST}?p=12").status_code == 400


@pytest.mark.usefixtures("anchored")
def test_anchors_are_taken_again_after_their_time(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 13, datetime(2025, 1, 1))  # 18 posts
    assert titles(boss.get(f"{LIST}?p=5").text) == _expected(app)[12:15]
    _add_posts(app, rows["boss"].id, 3, datetime(2027, 1, 1))  # three newer posts
    monkeypatch.setattr(anchors_module, "ANCHORS_SECONDS", 0.0)
    with recorded_statements(app.state.database) as statements:
        page = boss.get(f"{LIST}?p=5").text
    assert len(_anchor_queries(statements)) == 1
    assert titles(page) == _expected(app)[12:15]


@pytest.mark.usefixtures("anchored")
def test_filtered_and_custom_lists_do_not_use_anchors(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    _add_posts(app, rows["boss"].id, 13, datetime(2025, 1, 1))
    with recorded_statements(app.state.database) as statements:
        page = boss.get(f"{LIST}?published=0&p=3")
    assert page.status_code == 200
    assert not _anchor_queries(statements)
    with app.state.database.session() as db:
        drafts = sorted(
            (p for p in db.query(Post).all() if not p.published),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
    assert titles(page.text) == [html.escape(p.title, quote=False) for p in drafts[6:9]]


@pytest.mark.parametrize("order", ["author,-title", "status", "-published,title", "title"])
def test_keys_of_every_sortable_kind_walk_like_page_numbers(
    blog: Blog, boss: TestClient, order: str
) -> None:
    """Mixed directions (an expanded ``OR``), enums, booleans and strings: following
    the next links shows the pages ``?p=N`` shows."""
    app, rows = blog
    _add_posts(app, rows["boss"].id, 9, datetime(2025, 1, 1))  # 14 posts: 5 pages
    by_number = [titles(boss.get(f"{LIST}?o={order}&p={n}").text) for n in range(1, 6)]
    by_key = []
    url: str | None = f"?o={order}"
    while url is not None:
        page = boss.get(LIST + url)
        assert page.status_code == 200, url
        by_key.append(titles(page.text))
        url = _link(page.text, "next")
    assert by_key == by_number
    assert sum(len(page) for page in by_key) == 14


@pytest.mark.usefixtures("anchored")
def test_a_page_past_an_estimated_end_shows_the_last_page(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page number made from the planner's estimate may be past the end: the anchors
    know the real end, and the last page is shown."""
    app, rows = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's statistics")
    _add_posts(app, rows["boss"].id, 10, datetime(2025, 1, 1))  # 15 posts: 5 pages
    with app.state.database.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE adm_post")
        connection.commit()
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    page = boss.get(f"{LIST}?p=40")
    assert page.status_code == 200
    assert titles(page.text) == _expected(app)[12:15]
    assert 'aria-current="page">5<' in page.text
