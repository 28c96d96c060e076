"""Inlines: a post's comments edited on the post's page, in the post's transaction and
history."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, relationship

from nightowl import App
from nightowl.admin import Admin, LogEntry, StackedInline, TabularInline
from nightowl.db import Model, mapped_column
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient
from tests.admin.blog import Comment, Post, PostAdmin, Tag
from tests.admin.conftest import csrf_token

Blog = tuple[App, dict[str, Any]]


def comments(app: App) -> dict[int, str]:
    with app.state.database.session() as db:
        return {c.id: c.text for c in db.scalars(select(Comment).order_by(Comment.id))}


def post_form(page: str, rows: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token(page),
        "title": "Hello world",
        "body": "first post here",
        "status": "live",
        "published": "on",
        "author_id": str(rows["boss"].id),
        **extra,
    }


def test_the_comments_are_on_the_post_page(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][0]
    page = boss.get(f"/admin/blog/post/{post_id}/change/").text
    assert 'id="comments-group"' in page
    assert 'name="comments-TOTAL" value="3"' in page
    assert 'name="comments-0-text"' in page and 'value="First!"' in page
    assert 'name="comments-2-text"' in page  # the blank extra row
    first, second = sorted(comments(app))
    form = post_form(
        page,
        rows,
        **{
            "comments-TOTAL": "3",
            "comments-0-id": str(first),
            "comments-0-text": "First! (edited)",
            "comments-1-id": str(second),
            "comments-1-text": "Nice post",
            "comments-1-DELETE": "on",
            "comments-2-text": "A new one",
        },
    )
    saved = boss.post(f"/admin/blog/post/{post_id}/change/", data=form)
    assert saved.status_code == 303, saved.text
    now = comments(app)
    assert now[first] == "First! (edited)" and second not in now
    assert "A new one" in now.values()
    with app.state.database.session() as db:
        entry = db.scalars(select(LogEntry).where(LogEntry.action == "change")).one()
    assert entry.changes[f"comments[{first}].text"] == ["First!", "First! (edited)"]
    assert entry.changes[f"comments[-{second}]"] == ["Nice post", None]
    assert any(key.startswith("comments[+") for key in entry.changes)


def test_an_invalid_row_saves_nothing(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    post_id = rows["posts"][0]
    page = boss.get(f"/admin/blog/post/{post_id}/change/").text
    first = min(comments(app))
    form = post_form(
        page,
        rows,
        title="Changed too",
        **{"comments-TOTAL": "1", "comments-0-id": str(first), "comments-0-text": "x" * 600},
    )
    response = boss.post(f"/admin/blog/post/{post_id}/change/", data=form)
    assert response.status_code == 422
    assert "at most 500 characters" in response.text
    assert comments(app)[first] == "First!"
    with app.state.database.session() as db:
        assert db.get(Post, post_id).title == "Hello world"


def test_a_row_of_another_post_is_left_alone(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    other = rows["posts"][1]
    page = boss.get(f"/admin/blog/post/{other}/change/").text
    first = min(comments(app))  # a comment of the first post
    form = post_form(
        page,
        rows,
        title="Second thoughts",
        **{"comments-TOTAL": "1", "comments-0-id": str(first), "comments-0-text": "hijacked"},
    )
    assert boss.post(f"/admin/blog/post/{other}/change/", data=form).status_code == 303
    assert comments(app)[first] == "First!"


def test_adding_a_post_with_a_comment(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    page = boss.get("/admin/blog/post/add/").text
    assert 'name="comments-TOTAL" value="1"' in page
    form = post_form(
        page, rows, title="With a comment", **{"comments-TOTAL": "1", "comments-0-text": "Hi"}
    )
    assert boss.post("/admin/blog/post/add/", data=form).status_code == 303
    with app.state.database.session() as db:
        post = db.scalars(select(Post).where(Post.title == "With a comment")).one()
        assert [c.text for c in db.scalars(select(Comment).where(Comment.post_id == post.id))] == [
            "Hi"
        ]


def test_stacked_and_paginated(empty_database_url: str) -> None:
    from tests.admin.conftest import add_rows, client_for, make_blog

    class Stacked(StackedInline):
        model = Comment
        per_page = 1
        extra = 0

    app, _auth, admin = make_blog(empty_database_url)
    admin.unregister(Post)
    admin.register(Post, PostAdmin, inlines=[Stacked])
    rows = add_rows(app)
    client = client_for(app, "boss")
    post_id = rows["posts"][0]
    page = client.get(f"/admin/blog/post/{post_id}/change/").text
    assert 'class="module inline inline-stacked"' in page
    assert "First!" in page and "Nice post" not in page
    assert re.search(r'href="\?comments-page=2"', page)
    second = client.get(f"/admin/blog/post/{post_id}/change/?comments-page=2").text
    assert "Nice post" in second and 'value="First!"' not in second
    client.close()
    app.state.database.close()


def test_inline_configuration_errors() -> None:
    from tests.admin.test_site import bare_app

    class NoModel(TabularInline):
        pass

    class Unrelated(TabularInline):
        model = Tag

    class BadField(TabularInline):
        model = Comment
        fields = ["nope"]

    for inline, message in (
        (NoModel, "needs a model"),
        (Unrelated, "exactly one"),
        (BadField, "no editable field"),
    ):
        with pytest.raises(ImproperlyConfigured, match=message):
            Admin(bare_app()).register(Post, inlines=[inline])
    with pytest.raises(ImproperlyConfigured, match="inlines holds"):
        Admin(bare_app()).register(Post, inlines=[object])


class Scribe(Model):
    __tablename__ = "adm_scribe"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    def __str__(self) -> str:
        return self.name


class Volume(Model):
    """Volumes and scribes, many-to-many through ``Authorship``, a model with a field of its own."""

    __tablename__ = "adm_volume"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    credits: Mapped[list[Authorship]] = relationship(back_populates="book")

    def __str__(self) -> str:
        return self.title


class Authorship(Model):
    __tablename__ = "adm_authorship"
    __app_label__: ClassVar[str] = "blog"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("adm_volume.id"))
    writer_id: Mapped[int] = mapped_column(ForeignKey("adm_scribe.id"))
    role: Mapped[str] = mapped_column(String(50))
    book: Mapped[Volume] = relationship(back_populates="credits")
    writer: Mapped[Scribe] = relationship()


class AuthorshipInline(TabularInline):
    model = Authorship
    fields = ["writer_id", "role"]


def test_a_many_to_many_through_a_model_is_an_inline(empty_database_url: str) -> None:
    """The link model of a many-to-many is one-to-many from each side: its rows, with
    their own fields, are edited inline like any other."""
    from tests.admin.conftest import add_rows, client_for, make_blog

    app, _auth, admin = make_blog(empty_database_url)
    admin.register(Scribe)
    admin.register(Volume, inlines=[AuthorshipInline])
    app.state.database.create_all()
    add_rows(app)
    with app.state.database.session() as db:
        ann, bob = Scribe(name="Ann"), Scribe(name="Bob")
        book = Volume(title="Two hands", credits=[Authorship(writer=ann, role="author")])
        db.add_all([ann, bob, book])
        db.commit()
        book_id, ann_id, bob_id, first = book.id, ann.id, bob.id, book.credits[0].id
    client = client_for(app, "boss")
    page = client.get(f"/admin/blog/volume/{book_id}/change/").text
    assert 'name="credits-0-role"' in page and 'value="author"' in page
    form = {
        "csrf_token": csrf_token(page),
        "title": "Two hands",
        "credits-TOTAL": "2",
        "credits-0-id": str(first),
        "credits-0-writer_id": str(ann_id),
        "credits-0-role": "author",
        "credits-1-writer_id": str(bob_id),
        "credits-1-role": "illustrator",
    }
    saved = client.post(f"/admin/blog/volume/{book_id}/change/", data=form)
    assert saved.status_code == 303, saved.text
    with app.state.database.session() as db:
        rows = db.execute(
            select(Scribe.name, Authorship.role).join(Authorship.writer).order_by(Authorship.id)
        ).all()
    assert [tuple(r) for r in rows] == [("Ann", "author"), ("Bob", "illustrator")]
    client.close()
    app.state.database.close()
