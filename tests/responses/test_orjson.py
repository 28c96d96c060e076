"""ORJSONResponse: JSON through orjson when it is installed, a clear error when not."""

from __future__ import annotations

import sys

import pytest

from nightowl import App
from nightowl.exceptions import ImproperlyConfigured
from nightowl.responses import ORJSONResponse
from nightowl.testing import TestClient


def test_a_route_serialises_with_orjson() -> None:
    pytest.importorskip("orjson", reason="orjson is not installed")
    app = App()

    @app.get("/items", response_class=ORJSONResponse)
    def items() -> ORJSONResponse:
        return ORJSONResponse({1: "one", "b": [1.5, None]})

    response = TestClient(app).get("/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"1":"one","b":[1.5,null]}'


def test_without_orjson_the_error_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # what an absent package looks like
    with pytest.raises(ImproperlyConfigured, match=r'pip install "nightowl\[orjson\]"'):
        ORJSONResponse({"a": 1})
