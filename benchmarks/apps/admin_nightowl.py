"""The nightowl admin over the benchmark's tables, and a logged-in test client."""

from __future__ import annotations

import re
from typing import Any

from apps.admin_models import BenchAuthor, BenchPost
from nightowl import App
from nightowl.admin import Admin, ModelAdmin
from nightowl.auth import Auth, PasswordHasher
from nightowl.testing import TestClient

PASSWORD = "a long benchmark password"


class PostAdmin(ModelAdmin):
    list_display = ["title", "author", "published", "created_at"]
    list_filter = ["published"]
    search_fields = ["title"]
    ordering = ["-created_at"]
    list_per_page = 100
    autocomplete_fields = ["author"]


def client(url: str) -> TestClient:
    """The app on ``url`` with a superuser logged in (tables made by the benchmark)."""
    app = App(database=url, secret_key="benchmark-secret-key-not-for-production-use")
    auth = Auth(app, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    admin = Admin(app)
    admin.register(BenchAuthor, search_fields=["name"])
    admin.register(BenchPost, PostAdmin)
    database = app.state.database
    tables = [t for t in database.metadata.sorted_tables if t.name.startswith(("auth_", "admin_"))]
    database.metadata.create_all(database.engine, tables=tables)
    from sqlalchemy import select

    from nightowl.auth import User

    with database.session() as db:
        exists = db.scalars(select(User).where(User.username == "boss")).first()
    if exists is None:
        auth.create_user_sync(PASSWORD, username="boss", is_staff=True, is_superuser=True)
    test_client = TestClient(app, follow_redirects=False, headers={"Accept": "text/html"})
    test_client.__enter__()
    page = test_client.get("/auth/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form: dict[str, Any] = {"csrf_token": token.group(1), "username": "boss", "password": PASSWORD}
    assert test_client.post("/auth/login", data=form).status_code == 303
    return test_client
