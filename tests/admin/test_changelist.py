"""The index and the change list: permissions, columns, search, filters, sorting,
pagination, hostile parameters, escaping and the number of queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event

from nightowl import App
from nightowl.testing import TestClient
from tests.admin.conftest import client_for, grant

Blog = tuple[App, dict[str, Any]]


def titles(page: str) -> list[str]:
    """The first column of the result table (the post titles), as the page shows them."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">(.*?)</a></th>', body)


def test_the_index_lists_the_models_by_app(blog: Blog, boss: TestClient) -> None:
    page = boss.get("/admin/")
    assert page.status_code == 200
    assert 'href="/admin/blog/post/"' in page.text
    assert 'href="/admin/blog/tag/add/"' in page.text
    assert "Content-Security-Policy" in page.headers
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in page.text.replace(
        '<script src="/admin/static/admin/admin.js" defer></script>', ""
    )


def test_anonymous_and_non_staff_users_go_to_the_login_page(blog: Blog) -> None:
    app, _ = blog
    for username in (None, "reader"):
        client = client_for(app, username)
        response = client.get("/admin/blog/post/?o=title")
        assert response.status_code == 303
        assert (
            response.headers["location"] == "/auth/login?next=%2Fadmin%2Fblog%2Fpost%2F%3Fo%3Dtitle"
        )
        client.close()


def test_staff_see_only_what_they_have_permissions_for(blog: Blog) -> None:
    app, rows = blog
    grant(app, rows["editor"], "blog.view_post")
    client = client_for(app, "editor")
    index = client.get("/admin/").text
    assert 'href="/admin/blog/post/"' in index
    assert "/admin/blog/tag/" not in index
    assert "/admin/blog/post/add/" not in index  # no add permission
    assert client.get("/admin/blog/tag/").status_code == 403
    listing = client.get("/admin/blog/post/")
    assert listing.status_code == 200
    assert "Delete selected" not in listing.text and "Publish the selected" not in listing.text
    assert client.get("/admin/blog/nothing/").status_code == 404
    client.close()


def test_columns_relations_callables_and_escaping(blog: Blog, boss: TestClient) -> None:
    page = boss.get("/admin/blog/post/?o=title").text
    assert titles(page) == ["&lt;script&gt;alert(1)&lt;/script&gt;", "Hello world", "Howto: admin"]
    assert "<script>alert(1)</script>" not in page
    row = page.split("Hello world", 1)[1].split("</tr>", 1)[0]
    assert "<td>boss</td>" in row and "<td>boss@example.com</td>" in row
    assert "<td>live</td>" in row and "<td>3</td>" in row  # status, word count
    assert ">Words<" in page
    assert "5 results" in page


def test_sorting_only_by_the_allowed_columns(blog: Blog, boss: TestClient) -> None:
    assert titles(boss.get("/admin/blog/post/?o=-title").text)[0] == "Second thoughts"
    default = titles(boss.get("/admin/blog/post/").text)  # ordering = ["-created_at"]
    assert default == ["Last one", "Howto: admin", "&lt;script&gt;alert(1)&lt;/script&gt;"]
    by_author = boss.get("/admin/blog/post/?o=author,-title")
    assert by_author.status_code == 200
    for hostile in (
        "password",
        "title;drop table adm_post",
        "word_count",
        "-",
        "title,title",
        "author__email",
    ):
        response = boss.get("/admin/blog/post/", params={"o": hostile})
        assert response.status_code == 400, hostile
        assert response.headers["content-type"].startswith(
            ("application/problem+json", "text/html")
        )


def test_search_across_fields_and_a_relation(blog: Blog, boss: TestClient) -> None:
    assert titles(boss.get("/admin/blog/post/?q=howto").text) == ["Howto: admin"]
    by_email = boss.get("/admin/blog/post/?q=editor@example").text
    assert "3 results" in by_email
    assert titles(boss.get("/admin/blog/post/?q=more words").text) == ["Second thoughts"]
    assert titles(boss.get("/admin/blog/post/?q=%25").text) == []  # a literal %, not a wildcard
    assert boss.get("/admin/blog/post/", params={"q": "x" * 600}).status_code == 400
    assert boss.get("/admin/blog/post/", params={"q": "a\x00b"}).status_code == 400


def test_filters(blog: Blog, boss: TestClient) -> None:
    rows = blog[1]
    assert "2 results" in boss.get("/admin/blog/post/?published=1").text
    assert "1 result" in boss.get("/admin/blog/post/?status=review").text
    editor = rows["editor"].id
    assert "3 results" in boss.get(f"/admin/blog/post/?author={editor}").text
    spring = boss.get("/admin/blog/post/?created_at__gte=2026-03-01&created_at__lt=2026-05-01")
    assert "2 results" in spring.text
    sidebar = boss.get("/admin/blog/post/").text.split('class="filters"', 1)[1]
    assert "By published" in sidebar and "By author" in sidebar and "This year" in sidebar
    assert f"author={editor}" in sidebar and ">editor<" in sidebar
    for hostile in (
        "published=yes",
        "status=deleted",
        "author=1%20or%201=1",
        "created_at__gte=yesterday",
        "title=x",
        "published=1&published=0",
        "p=0",
        "p=abc",
        "p=99",
    ):
        assert boss.get(f"/admin/blog/post/?{hostile}").status_code == 400, hostile


def test_pagination_keeps_the_state_in_the_url(blog: Blog, boss: TestClient) -> None:
    first = boss.get("/admin/blog/post/?o=title&published=0").text
    assert "3 results" in first
    assert boss.get("/admin/blog/post/?o=title&published=0&p=2").status_code == 400  # 1 page
    page_two = boss.get("/admin/blog/post/?o=title&p=2").text
    assert titles(page_two) == ["Last one", "Second thoughts"]
    assert 'href="?o=title&amp;p=1"' in page_two
    sort_link = re.search(r'<a href="(\?[^"]*)">Title</a>', page_two)
    assert sort_link and "p=" not in sort_link.group(1)


def test_a_get_queryset_restriction_applies_to_the_list(empty_database_url: str) -> None:
    from tests.admin.blog import Post, PostAdmin
    from tests.admin.conftest import add_rows, make_blog

    app, _auth, admin = make_blog(empty_database_url)
    admin.unregister(Post)

    class OnlyPublished(PostAdmin):
        def get_queryset(self, request: Any) -> Any:
            return super().get_queryset(request).where(Post.published.is_(True))

    admin.register(Post, OnlyPublished)
    rows = add_rows(app)
    client = client_for(app, "boss")
    assert "2 results" in client.get("/admin/blog/post/").text
    hidden = rows["posts"][1]
    assert client.get(f"/admin/blog/post/{hidden}/change/").status_code == 404
    client.close()
    app.state.database.close()


def test_the_list_costs_the_same_queries_for_any_number_of_rows(
    blog: Blog, boss: TestClient
) -> None:
    app, _ = blog
    statements: list[str] = []
    engine = app.state.database.async_engine.sync_engine

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    boss.get("/admin/blog/post/?o=title")  # warm up: the user's permissions, the session
    event.listen(engine, "before_cursor_execute", count)
    try:
        boss.get("/admin/blog/post/?o=title")
        three = len(statements)
        statements.clear()
        boss.get("/admin/blog/post/?o=title&p=2")
        two = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert three == two
    assert three <= 8, statements


@pytest.mark.parametrize("path", ["/admin/static/admin/admin.css", "/admin/static/admin/admin.js"])
def test_the_static_files_are_served(blog: Blog, path: str) -> None:
    with TestClient(blog[0]) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert "http://" not in response.text and "https://" not in response.text


def test_every_row_appears_once_across_the_pages(blog: Blog, boss: TestClient) -> None:
    """The last pages are read from the other end; with ties on the sorted column, the
    pages still add up to the whole list, in order."""
    from tests.admin.blog import Post

    app, rows = blog
    with app.state.database.session() as db:
        for number in range(9):
            db.add(Post(title=f"Same {number % 2}", author_id=rows["boss"].id))
        db.commit()
        expected = [
            (post.title, post.id)
            for post in sorted(db.query(Post).all(), key=lambda p: (p.title, p.id))
        ]
    for sort, key in (("title", expected), ("-title", None)):
        shown: list[str] = []
        for number in range(1, 6):
            shown += titles(boss.get(f"/admin/blog/post/?o={sort}&p={number}").text)
        if key is not None:
            assert shown == [t.replace("<", "&lt;").replace(">", "&gt;") for t, _ in expected]
        assert len(shown) == 14
    links = re.findall(
        r'href="/admin/blog/post/(\d+)/change/"',
        "".join(boss.get(f"/admin/blog/post/?p={n}").text for n in range(1, 6)),
    )
    assert len(links) == len(set(links)) == 14


def test_the_result_rows_escape_what_they_show(blog: Blog, boss: TestClient) -> None:
    page = boss.get("/admin/blog/post/?o=title").text
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert 'aria-label="Select &lt;script&gt;alert(1)&lt;/script&gt;"' in body
    assert "<script>" not in body
    assert body.count('<input type="checkbox" name="_selected_action"') == 3
    empty = boss.get("/admin/blog/post/?q=nothing-matches-this").text
    assert '<td colspan="7">No posts found.</td>' in empty
