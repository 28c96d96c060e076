"""The site itself: registering (and the errors of a misspelt option), custom pages,
several sites on one app, per-model templates, the PostgreSQL count estimate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import pytest
from sqlalchemy import text

from nightowl import App
from nightowl.admin import Admin, ModelAdmin
from nightowl.admin import _changelist as changelist_module
from nightowl.auth import Auth
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.admin.blog import Post, PostAdmin, Tag
from tests.admin.conftest import SECRET, add_rows, client_for, make_blog
from tests.admin.test_changelist import titles

Blog = tuple[App, dict[str, Any]]


def bare_app() -> App:
    app = App(database="sqlite://", secret_key=SECRET)
    Auth(app)
    return app


def test_the_admin_needs_the_auth_battery() -> None:
    with pytest.raises(ImproperlyConfigured, match="Auth"):
        Admin(App(database="sqlite://", secret_key=SECRET))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"list_display": ["nope"]}, "list_display names 'nope'"),
        ({"search_fields": ["published"]}, "not a text column"),
        ({"search_fields": ["author__nope"]}, "search_fields names 'author__nope'"),
        ({"list_filter": ["title"]}, "not a boolean, enum, relationship or date"),
        ({"list_filter": ["nope"]}, "list_filter names 'nope'"),
        ({"ordering": ["-nope"]}, "ordering names 'nope'"),
        ({"actions": ["nope"]}, "actions names 'nope'"),
        ({"list_per_page": 0}, "list_per_page"),
        ({"list_dispaly": ["title"]}, "unknown option"),
    ],
)
def test_a_misspelt_option_is_an_error(options: dict[str, Any], message: str) -> None:
    admin = Admin(bare_app())
    with pytest.raises(ImproperlyConfigured, match=message):
        admin.register(Post, **options)


def test_registering_twice_and_bad_arguments() -> None:
    admin = Admin(bare_app())
    admin.register(Tag)
    with pytest.raises(ImproperlyConfigured, match="registered already"):
        admin.register(Tag)
    with pytest.raises(ImproperlyConfigured, match="model class"):
        admin.register(str)
    with pytest.raises(ImproperlyConfigured, match="decorates a ModelAdmin"):
        admin.register(Post)(object)
    with pytest.raises(ImproperlyConfigured, match="not registered"):
        Admin(bare_app(), name="other").unregister(Post)
    with pytest.raises(ImproperlyConfigured, match="path"):
        Admin(bare_app(), path="/admin/")


def test_the_sites_of_an_app_are_kept_in_its_state_by_name() -> None:
    app = bare_app()
    admin, ops = Admin(app), Admin(app, path="/ops", name="ops")
    assert "admin_sites" in app.state
    assert app.state.admin_sites == {"admin": admin, "ops": ops}
    with pytest.raises(ImproperlyConfigured, match="named 'ops' exists already"):
        Admin(app, path="/ops2", name="ops")


def test_the_decorator_form_uses_the_class() -> None:
    admin = Admin(bare_app())

    @admin.register(Post)
    class Mine(ModelAdmin):
        list_display = ["title"]

    assert type(admin.registry["blog", "post"]) is Mine


def test_custom_pages_and_a_second_site(empty_database_url: str) -> None:
    app, _auth, admin = make_blog(empty_database_url, title="Back office")
    support = Admin(app, path="/support", title="Support desk", name="support")
    support.register(Tag, search_fields=["name"])

    @admin.page("/stats", title="Statistics")
    async def stats(request: Any) -> dict[str, Any]:
        return {"content": "<b>42</b> posts"}

    @admin.page("/secret", title="Secret", permission="blog.nothing")
    def secret(request: Any) -> dict[str, Any]:
        return {"content": "hidden"}

    rows = add_rows(app)
    client = client_for(app, "boss")
    index = client.get("/admin/").text
    assert "Back office" in index and 'href="/admin/stats"' in index
    page = client.get("/admin/stats")
    assert page.status_code == 200 and "&lt;b&gt;42&lt;/b&gt; posts" in page.text
    desk = client.get("/support/").text
    assert "Support desk" in desk and "/support/blog/tag/" in desk and "/blog/post/" not in desk
    assert client.get("/support/blog/tag/").status_code == 200
    assert client.get("/support/blog/post/").status_code == 404
    client.close()
    editor = client_for(app, "editor")
    assert editor.get("/admin/secret").status_code == 403
    assert 'href="/admin/secret"' not in editor.get("/admin/").text
    editor.close()
    assert rows
    app.state.database.close()


def test_a_template_for_one_model(empty_database_url: str) -> None:
    loader = jinja2.DictLoader(
        {
            "admin/blog/tag/change_list.html": (
                '{% extends "admin/change_list.html" %}{% block heading %}Our tags{% endblock %}'
            ),
            "custom/posts.html": '{% extends "admin/change_list.html" %}{% block heading %}Posts!{% endblock %}',
        }
    )
    app = App(database=empty_database_url, secret_key=SECRET, templates=loader)
    Auth(app)
    admin = Admin(app)
    admin.register(Tag)
    admin.register(Post, PostAdmin, template_overrides={"change_list.html": "custom/posts.html"})
    app.state.database.create_all()
    add_rows(app)
    client = client_for(app, "boss")
    assert "<h1>Our tags</h1>" in client.get("/admin/blog/tag/").text
    assert "<h1>Posts!</h1>" in client.get("/admin/blog/post/").text
    client.close()
    app.state.database.close()


@pytest.mark.parametrize(
    ("debug", "heading"), [(True, "Our tags"), (False, "Select tag to change")]
)
def test_a_template_added_later_shows_in_debug_only(
    empty_database_url: str, tmp_path: Path, debug: bool, heading: str
) -> None:
    # In production the admin remembers which of a page's templates exists (looking
    # for the missing ones costs every request a search on disk); in debug it looks again.
    app = App(database=empty_database_url, secret_key=SECRET, templates=str(tmp_path), debug=debug)
    Auth(app)
    Admin(app).register(Tag)
    app.state.database.create_all()
    add_rows(app)
    client = client_for(app, "boss")
    assert "<h1>Select tag to change</h1>" in client.get("/admin/blog/tag/").text
    override = tmp_path / "admin" / "blog" / "tag" / "change_list.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        '{% extends "admin/change_list.html" %}{% block heading %}Our tags{% endblock %}'
    )
    shown = client.get("/admin/blog/tag/").text
    assert f"<h1>{heading}</h1>" in shown
    client.close()
    app.state.database.close()


def test_big_unfiltered_postgresql_tables_show_an_estimate(
    blog: Blog, boss: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = blog
    if app.state.database.backend != "postgresql":
        pytest.skip("the estimate comes from PostgreSQL's statistics")
    with app.state.database.engine.connect() as connection:
        connection.execute(text("ANALYZE adm_post"))
        connection.commit()
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", 1)
    assert "about 5 results" in boss.get("/admin/blog/post/").text
    assert (
        "about" not in boss.get("/admin/blog/post/?published=1").text.split('class="count"')[1][:40]
    )


def test_a_slow_postgresql_count_gives_way_to_the_estimate(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("the time limit is PostgreSQL's statement_timeout")
    from tests.admin.conftest import add_rows, make_blog

    class Slow(PostAdmin):
        list_per_page = 2  # a full first page: the count cannot be read from it

        def get_queryset(self, request: Any) -> Any:
            # 20 ms a row: counting takes longer than the limit.
            return super().get_queryset(request).where(text("pg_sleep(0.02) IS NOT NULL"))

    app, _auth, admin = make_blog(empty_database_url)
    admin.unregister(Post)
    admin.register(Post, Slow)
    add_rows(app)
    monkeypatch.setattr(changelist_module, "COUNT_TIMEOUT_MS", 30)
    monkeypatch.setattr(changelist_module, "ESTIMATE_ABOVE", -1)  # as if the table were big
    # The planner prices pg_sleep() like any function: no count is cheap enough to skip
    # the time limit.
    monkeypatch.setattr(changelist_module, "COUNT_DIRECT_COST", 0.0)
    client = client_for(app, "boss")
    page = client.get("/admin/blog/post/?published=0")
    assert page.status_code == 200
    assert re.search(r"about \d+ results?", page.text)
    assert len(titles(page.text)) == 2  # the page itself is still shown
    monkeypatch.setattr(changelist_module, "COUNT_TIMEOUT_MS", 5000)
    assert "3 results" in client.get("/admin/blog/post/?published=0").text
    client.close()
    app.state.database.close()


def test_every_kind_of_list_display_column(empty_database_url: str) -> None:
    from nightowl.admin import display
    from tests.admin.conftest import add_rows, make_blog

    @display(description="Shouted", ordering="-title")
    def shouted(post: Post) -> str:
        return post.title.upper()

    def tag_count(post: Post) -> int:
        return len(post.tags)

    app, _auth, admin = make_blog(empty_database_url)
    admin.unregister(Post)
    admin.register(
        Post,
        list_display=["__str__", shouted, tag_count, "tags", "author__username", "__repr__"],
        list_prefetch=["tags"],
    )
    add_rows(app)
    client = client_for(app, "boss")
    page = client.get("/admin/blog/post/?o=shouted").text
    assert ">Shouted</a>" in page and ">Tag count<" in page
    assert "HELLO WORLD" in page
    assert "<td>howto, news</td>" in page or "<td>news, howto</td>" in page
    assert "&lt;Post id=" in page  # a model method, called
    assert client.get("/admin/blog/post/?o=tag_count").status_code == 400  # no ordering given
    client.close()
    app.state.database.close()
