"""Actions on the selected rows: the bulk delete with its confirmation page, the admin's
own actions, and the permissions and restrictions they obey."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from nightowl import App
from nightowl.admin import LogEntry
from nightowl.testing import TestClient
from tests.admin.blog import Comment, Post
from tests.admin.conftest import client_for, csrf_token, grant

Blog = tuple[App, dict[str, Any]]


def count(app: App, model: Any) -> int:
    with app.state.database.session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_bulk_delete_asks_first_and_lists_related_rows(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    listing = boss.get("/admin/blog/post/?o=title")
    assert 'value="delete_selected">Delete selected posts' in listing.text
    first, second = rows["posts"][0], rows["posts"][1]
    form = {
        "csrf_token": csrf_token(listing.text),
        "action": "delete_selected",
        "_selected_action": [str(first), str(second)],
    }
    confirm = boss.post("/admin/blog/post/?o=title", data=form)
    assert confirm.status_code == 200
    assert "Are you sure?" in confirm.text
    assert "Post: Hello world" in confirm.text and "Post: Second thoughts" in confirm.text
    assert "Comment: First!" in confirm.text
    assert count(app, Post) == 5  # nothing deleted yet
    form.update(post="yes", csrf_token=csrf_token(confirm.text))
    done = boss.post("/admin/blog/post/?o=title", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/admin/blog/post/?o=title"
    assert count(app, Post) == 3 and count(app, Comment) == 0
    assert "Deleted 2 posts." in boss.get("/admin/blog/post/").text
    with app.state.database.session() as db:
        deleted = db.scalars(select(LogEntry.object_repr).where(LogEntry.action == "delete")).all()
    assert sorted(deleted) == ["Hello world", "Second thoughts"]


def test_a_custom_action_logs_each_change(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    listing = boss.get("/admin/blog/post/")
    assert "Publish the selected posts" in listing.text
    chosen = [str(rows["posts"][1]), str(rows["posts"][2])]
    form = {"csrf_token": csrf_token(listing.text), "action": "publish", "_selected_action": chosen}
    done = boss.post("/admin/blog/post/", data=form)
    assert done.status_code == 303
    with app.state.database.session() as db:
        published = db.scalars(select(Post.title).where(Post.published.is_(True))).all()
        assert len(published) == 4
        entries = db.scalars(select(LogEntry).where(LogEntry.action == "publish")).all()
    assert len(entries) == 2
    assert all(entry.changes["published"] == [False, True] for entry in entries)
    history = boss.get(f"/admin/blog/post/{rows['posts'][1]}/history/").text
    assert "publish" in history and "<del>False</del> → <ins>True</ins>" in history


def test_no_selection_unknown_action_and_bad_ids(blog: Blog, boss: TestClient) -> None:
    token = csrf_token(boss.get("/admin/blog/post/").text)
    nothing = boss.post("/admin/blog/post/", data={"csrf_token": token, "action": "publish"})
    assert nothing.status_code == 303
    assert "Items must be selected" in boss.get("/admin/blog/post/").text
    data = {"csrf_token": token, "action": "drop_table", "_selected_action": ["1"]}
    assert boss.post("/admin/blog/post/", data=data).status_code == 400
    data = {"csrf_token": token, "action": "publish", "_selected_action": ["1 or 1=1"]}
    assert boss.post("/admin/blog/post/", data=data).status_code == 400
    no_csrf = {"action": "delete_selected", "_selected_action": ["1"], "post": "yes"}
    assert boss.post("/admin/blog/post/", data=no_csrf).status_code == 403


def test_actions_need_their_permission(blog: Blog) -> None:
    app, rows = blog
    grant(app, rows["editor"], "blog.view_post")
    client = client_for(app, "editor")
    token = csrf_token(client.get("/admin/blog/post/").text)
    for name in ("delete_selected", "publish"):
        data = {"csrf_token": token, "action": name, "_selected_action": ["1"], "post": "yes"}
        assert client.post("/admin/blog/post/", data=data).status_code == 403
    assert count(app, Post) == 5
    client.close()


def test_a_plain_def_action_gets_a_sync_session(blog: Blog, boss: TestClient) -> None:
    app, rows = blog
    token = csrf_token(boss.get("/admin/blog/post/").text)
    hello = str(rows["posts"][0])
    form = {"csrf_token": token, "action": "archive", "_selected_action": [hello]}
    assert boss.post("/admin/blog/post/", data=form).status_code == 303
    with app.state.database.session() as db:
        post = db.get(Post, int(hello))
        assert post is not None and post.published is False
        assert db.scalars(select(Comment).where(Comment.post_id == int(hello))).all() == []
        entry = db.scalars(select(LogEntry).where(LogEntry.action == "archive")).one()
    assert entry.changes["published"] == [True, False]


def test_each_selected_row_is_checked(empty_database_url: str) -> None:
    """``has_change_permission(request, obj)`` and ``has_delete_permission(request, obj)``
    are asked for every selected row; one refusal refuses the whole action."""
    from tests.admin.blog import PostAdmin
    from tests.admin.conftest import add_rows, make_blog

    class Guarded(PostAdmin):
        async def has_change_permission(self, request: Any, obj: Any = None) -> bool:
            return obj is None or obj.title != "Hello world"

        async def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
            return obj is None or obj.title != "Last one"

    app, _auth, admin = make_blog(empty_database_url)
    admin.unregister(Post)
    admin.register(Post, Guarded)
    rows = add_rows(app)
    client = client_for(app, "boss")
    hello, second, last = rows["posts"][0], rows["posts"][1], rows["posts"][4]
    token = csrf_token(client.get("/admin/blog/post/").text)
    form: dict[str, Any] = {
        "csrf_token": token,
        "action": "publish",
        "_selected_action": [str(hello), str(second)],
    }
    refused = client.post("/admin/blog/post/", data=form)
    assert refused.status_code == 403
    assert "1 of the 2 selected posts" in refused.text
    with app.state.database.session() as db:
        assert db.get(Post, second).published is False  # nothing was done
    form["_selected_action"] = [str(second)]
    assert client.post("/admin/blog/post/", data=form).status_code == 303
    form.update(action="delete_selected", _selected_action=[str(second), str(last)], post="yes")
    assert client.post("/admin/blog/post/", data=form).status_code == 403
    assert count(app, Post) == 5
    client.close()
    app.state.database.close()
