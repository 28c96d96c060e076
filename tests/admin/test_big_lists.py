"""Lists of big tables: deep pages read their keys first (a deferred join), a key that
follows the sort's direction, counts skipped when the planner expects many rows, and
a last page that makes the count exact."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from nightowl import App
from nightowl.admin import _changelist as changelist_module
from nightowl.testing import TestClient
from tests.admin.blog import Post
from tests.admin.test_changelist import titles
from tests.statements import recorded_statements

Blog = tuple[App, dict[str, Any]]


def _more_posts(app: App, author_id: int, count: int, **values: Any) -> list[int]:
    with app.state.database.session() as db:
        posts = [
            Post(title=f"Post {number:02d}", author_id=author_id, **values)
            for number in range(count)
        ]
        db.add_all(posts)
        db.commit()
        return [post.id for post in posts]


def test_deep_pages_read_the_keys_first_and_show_every_row_once(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, rows = blog
    _more_posts(app, rows["boss"].id, 9)
    monkeypatch.setattr(changelist_module, "DEFERRED_FROM", 1)  # every page but the first
    with recorded_statements(app.state.database) as statements:
        shown = []
        for number in range(1, 6):
            shown += titles(boss.get(f"/admin/blog/post/?o=title&p={number}").text)
    with app.state.database.session() as db:
        expected = [p.title for p in sorted(db.query(Post).all(), key=lambda p: (p.title, p.id))]
    assert shown == [t.replace("<", "&lt;").replace(">", "&gt;") for t in expected]
    deferred = [s for s in statements if re.search(r"\.id IN \(SELECT adm_post\.id FROM", s)]
    # Pages 2 to 4; the last one is read from the other end, with no offset.
    assert len(deferred) == 3, statements


def test_the_key_follows_the_direction_of_the_sort(blog: Blog, boss: TestClient) -> None:
    """Ties on ``-created_at`` come newest key first, the order an index on
    ``(created_at, id)`` gives in one backward scan."""
    app, rows = blog
    ids = _more_posts(app, rows["boss"].id, 3, created_at=datetime(2027, 1, 1))
    page = boss.get("/admin/blog/post/").text
    links = re.findall(r'href="/admin/blog/post/(\d+)/change/"', page)
    assert links == [str(i) for i in reversed(ids)]


def _analyzed(app: App) -> None:
    with app.state.database.engine.connect() as connection:
        connection.execute(text("ANALYZE adm_post"))
        connection.commit()


def test_a_filter_the_planner_expects_to_be_big_is_not_counted(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, rows = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's planner")
    _more_posts(app, rows["boss"].id, 6)
    _analyzed(app)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    monkeypatch.setattr(changelist_module, "ESTIMATE_FILTERED_ABOVE", 0)
    with recorded_statements(app.state.database) as statements:
        page = boss.get("/admin/blog/post/?published=0")  # 9 rows, 3 a page
    assert page.status_code == 200
    assert re.search(r"about \d+ results?", page.text)
    assert len(titles(page.text)) == 3
    assert not any("count(" in s.lower() for s in statements), statements
    # A filter whose first page is not full needs no count: the page gives it.
    assert '<span class="count">2 results</span>' in boss.get("/admin/blog/post/?published=1").text


def test_a_first_page_that_is_not_full_is_the_count(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("small tables (and SQLite's) are counted first")
    _analyzed(app)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    with recorded_statements(app.state.database) as statements:
        page = boss.get("/admin/blog/post/?q=howto")
    assert '<span class="count">1 result</span>' in page.text
    assert titles(page.text) == ["Howto: admin"]
    assert not any("count(" in s.lower() for s in statements), statements


def test_a_filtered_list_asks_the_planner_once_in_a_while(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, rows = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the plan comes from PostgreSQL's EXPLAIN")
    _more_posts(app, rows["boss"].id, 6)
    _analyzed(app)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    with recorded_statements(app.state.database) as statements:
        first = boss.get("/admin/blog/post/?published=0").text
        second = boss.get("/admin/blog/post/?published=0").text
        other = boss.get("/admin/blog/post/?published=1").text
    assert titles(first) == titles(second) and len(titles(first)) == 3
    assert '<span class="count">9 results</span>' in second
    assert '<span class="count">2 results</span>' in other
    explains = [s for s in statements if s.startswith("EXPLAIN")]
    assert len(explains) == 2, explains  # one per list, the second request reuses it


def test_a_search_no_index_serves_walks_the_order_and_is_not_counted(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a big table a search the planner would answer by reading every row shows
    "more than N" without counting, and its page walks the ordering until it is full."""
    app, rows = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the plan comes from PostgreSQL's EXPLAIN")
    _more_posts(app, rows["boss"].id, 8)  # "Post 00" to "Post 07"
    _analyzed(app)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    monkeypatch.setattr(changelist_module, "SCAN_ABOVE", -1)
    with recorded_statements(app.state.database) as statements:
        page = boss.get("/admin/blog/post/?q=post+0").text
    with app.state.database.session() as db:
        posts = db.query(Post).filter(Post.title.like("Post 0%")).all()
    expected = [p.title for p in sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)]
    assert titles(page) == expected[:3]
    assert re.search(r'<span class="count">(about \d+|more than 3) results</span>', page)
    assert any("enable_sort = off" in s for s in statements), statements
    assert not any("count(" in s.lower() for s in statements), statements
    # The last page of the search, reached by its next links, gives the exact count.
    shown = titles(page)
    while (found := re.search(r'<a href="([^"]+)" rel="next">', page)) is not None:
        page = boss.get("/admin/blog/post/" + found.group(1).replace("&amp;", "&")).text
        shown += titles(page)
    assert shown == expected
    assert '<span class="count">8 results</span>' in page


def test_a_count_the_planner_calls_cheap_is_one_statement(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, rows = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the cost comes from PostgreSQL's EXPLAIN")
    _more_posts(app, rows["boss"].id, 6)
    _analyzed(app)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    with recorded_statements(app.state.database) as statements:
        page = boss.get("/admin/blog/post/?published=0&p=2")
    assert '<span class="count">9 results</span>' in page.text
    assert len(titles(page.text)) == 3
    assert not any("statement_timeout" in s for s in statements), statements
    assert sum("count(" in s.lower() for s in statements) == 1, statements
