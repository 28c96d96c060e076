"""The auth battery's user in WebSocket handlers, as in HTTP ones: the session cookie rides
along with the handshake; ``login_required`` refuses an anonymous handshake with 401."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import pytest

from nightowl import App, Depends, WebSocket
from nightowl.auth import User, current_user, login_required
from nightowl.exceptions import WebSocketDisconnect
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, log_in, make_app


@pytest.fixture
def client(empty_database_url: str) -> Iterator[TestClient]:
    app, auth = make_app(empty_database_url)
    auth.create_user_sync(PASSWORD, username="ada", email="ada@example.com")
    add_room(app)
    with TestClient(app, follow_redirects=False) as client:
        yield client
    app.state.database.close()


def add_room(app: App) -> None:
    @app.websocket("/room")
    async def room(
        ws: WebSocket,
        user: Annotated[User, Depends(login_required)],
        seen: Annotated[Any, Depends(current_user)],
    ) -> None:
        await ws.accept()
        await ws.send_json({"user": user.username, "same": seen is user})
        await ws.close()


def test_the_logged_in_user_reaches_the_websocket_handler(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as refused:  # noqa: SIM117
        with client.websocket_connect("/room"):
            pass
    assert refused.value.code == 1008  # a real server answers 401
    assert log_in(client).status_code == 303
    with client.websocket_connect("/room") as ws:  # the session cookie goes along
        assert ws.receive_json() == {"user": "ada", "same": True}
