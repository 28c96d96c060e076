"""nightowl.status: the names FastAPI and Starlette programs use for status codes."""

from __future__ import annotations

from http import HTTPStatus

from nightowl import App, status
from nightowl.testing import TestClient


def test_every_standard_status_has_its_name() -> None:
    for code in HTTPStatus:
        names = [name for name in status.__all__ if name.startswith(f"HTTP_{code.value}_")]
        assert names, code
        assert all(getattr(status, name) == code.value for name in names)


def test_old_and_new_spellings_of_renamed_statuses() -> None:
    assert status.HTTP_422_UNPROCESSABLE_ENTITY == status.HTTP_422_UNPROCESSABLE_CONTENT == 422
    assert status.HTTP_413_REQUEST_ENTITY_TOO_LARGE == status.HTTP_413_CONTENT_TOO_LARGE == 413
    assert status.HTTP_414_REQUEST_URI_TOO_LONG == status.HTTP_414_URI_TOO_LONG == 414
    assert status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE == 416
    assert status.HTTP_418_IM_A_TEAPOT == 418


def test_websocket_close_codes() -> None:
    assert status.WS_1000_NORMAL_CLOSURE == 1000
    assert status.WS_1008_POLICY_VIOLATION == 1008
    assert status.WS_1011_INTERNAL_ERROR == 1011


def test_a_route_answers_with_a_named_status() -> None:
    app = App()

    @app.post("/items", status_code=status.HTTP_201_CREATED)
    def create() -> dict[str, str]:
        return {"id": "1"}

    assert TestClient(app).post("/items").status_code == 201
