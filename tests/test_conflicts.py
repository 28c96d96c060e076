"""Duplicate and shadowed routes are refused at startup, naming both handlers and files."""

from __future__ import annotations

import pytest

from nightowl import App, Router
from nightowl.exceptions import ImproperlyConfigured
from nightowl.testing import TestClient


def test_a_duplicate_route_names_both_handlers_and_the_path_as_written() -> None:
    app = App()

    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/users/{user_id}")
    def get_user_again(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    with pytest.raises(ImproperlyConfigured) as caught, TestClient(app):
        pass
    message = str(caught.value)
    assert message.startswith("Two routes answer GET /users/{user_id}: ")
    assert ":str" not in message
    first_line = get_user.__code__.co_firstlineno
    assert f"get_user (tests/test_conflicts.py, line {first_line})" in message
    assert "get_user_again (tests/test_conflicts.py, line" in message


def test_a_route_that_can_never_answer_is_refused() -> None:
    app = App()
    api = Router(prefix="/api")

    @api.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @api.get("/users/{uid}")
    def get_by_uid(uid: int) -> dict[str, int]:
        return {"id": uid}

    app.include(api)
    with pytest.raises(ImproperlyConfigured) as caught:
        app.openapi()
    message = str(caught.value)
    assert message.startswith("GET /api/users/{uid} (get_by_uid (tests/test_conflicts.py, line")
    assert (
        "can never answer: GET /api/users/{user_id} (get_user (tests/test_conflicts.py" in message
    )


def test_different_converters_or_methods_are_fine() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    def by_id(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/items/{slug:slug}")
    def by_slug(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.post("/items/{name}")
    def create(name: str) -> dict[str, str]:
        return {"name": name}

    with TestClient(app) as client:
        assert client.get("/items/3").json() == {"id": 3}
        assert client.get("/items/a-b").json() == {"slug": "a-b"}
