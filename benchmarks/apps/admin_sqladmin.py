"""SQLAdmin on FastAPI over the benchmark's tables (asyncpg), and a test client.

SQLAdmin has no login by default; the benchmark runs it without one, which only spares
it the work of checking a session.
"""

from __future__ import annotations

from typing import Any

from apps.admin_models import BenchAuthor, BenchPost


def client(url: str) -> Any:
    """A Starlette ``TestClient`` of a FastAPI app with SQLAdmin on ``url``."""
    from fastapi import FastAPI
    from sqladmin import Admin, ModelView
    from sqladmin.filters import BooleanFilter
    from sqlalchemy.ext.asyncio import create_async_engine
    from starlette.testclient import TestClient

    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    app = FastAPI()
    admin = Admin(app, engine)

    class AuthorView(ModelView, model=BenchAuthor):
        column_list = [BenchAuthor.id, BenchAuthor.name]
        column_searchable_list = [BenchAuthor.name]

    class PostView(ModelView, model=BenchPost):
        column_list = [BenchPost.title, BenchPost.author, BenchPost.published, BenchPost.created_at]
        column_searchable_list = [BenchPost.title]
        column_sortable_list = [BenchPost.title, BenchPost.created_at]
        column_default_sort = [(BenchPost.created_at, True)]
        column_filters = [BooleanFilter(BenchPost.published)]
        page_size = 100
        page_size_options = [100]
        form_ajax_refs = {"author": {"fields": ("name",)}}

    admin.add_view(AuthorView)
    admin.add_view(PostView)
    test_client = TestClient(app)
    test_client.__enter__()
    return test_client
