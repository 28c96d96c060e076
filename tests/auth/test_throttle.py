"""Failed logins throttled per account and per client: 429 with Retry-After."""

from __future__ import annotations

import socket
import uuid

import pytest

from nightowl.auth.throttle import LoginThrottle, MemoryThrottleStore, RedisThrottleStore
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, log_in, make_app


def test_brute_force_on_one_account(empty_database_url: str) -> None:
    throttle = LoginThrottle(MemoryThrottleStore(), max_per_account=3, window=60)
    app, auth = make_app(empty_database_url, throttle=throttle)
    auth.create_user_sync(PASSWORD, username="ada")
    with TestClient(app, follow_redirects=False) as client:
        for _ in range(3):
            assert log_in(client, password="guess").status_code == 400
        blocked = log_in(client)  # even the right password, for now
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["retry-after"]) <= 60
        assert "Too many failed login attempts" in blocked.text
        assert log_in(client, username="someone-else", password="guess").status_code == 400
    app.state.database.close()


def test_a_successful_login_clears_the_account(empty_database_url: str) -> None:
    throttle = LoginThrottle(max_per_account=3, window=60)
    app, auth = make_app(empty_database_url, throttle=throttle)
    auth.create_user_sync(PASSWORD, username="ada")
    with TestClient(app, follow_redirects=False) as client:
        for _ in range(2):
            log_in(client, password="guess")
        assert log_in(client).status_code == 303
        for _ in range(2):
            assert log_in(client, password="guess").status_code == 400
    app.state.database.close()


def test_one_client_trying_many_accounts(empty_database_url: str) -> None:
    throttle = LoginThrottle(max_per_account=100, max_per_client=4, window=60)
    app, _ = make_app(empty_database_url, throttle=throttle)
    with TestClient(app, follow_redirects=False) as client:
        for name in ["a", "b", "c", "d"]:
            assert log_in(client, username=name).status_code == 400
        assert log_in(client, username="e").status_code == 429
    app.state.database.close()


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_two_workers_share_the_count_in_redis(empty_database_url: str) -> None:
    """Two apps (two workers) with their own throttle objects, one Redis."""
    prefix = f"test:{uuid.uuid4().hex}:"
    workers = []
    for _ in range(2):
        store = RedisThrottleStore("redis://127.0.0.1:6379/0", prefix=prefix)
        workers.append(
            make_app(empty_database_url, throttle=LoginThrottle(store, max_per_account=4))
        )
    workers[0][1].create_user_sync(PASSWORD, username="ada")
    (one, _), (two, _) = workers
    with (
        TestClient(one, follow_redirects=False) as first,
        TestClient(two, follow_redirects=False) as second,
    ):
        for client in [first, second, first, second]:
            assert log_in(client, password="guess").status_code == 400
        assert log_in(first).status_code == 429
        assert log_in(second).status_code == 429
    for app, _ in workers:
        app.state.database.close()


def test_an_unreachable_store_refuses_logins_with_503(empty_database_url: str) -> None:
    """Redis down: counting nothing would let a guesser through, so logins wait."""
    store = RedisThrottleStore("redis://127.0.0.1:1/0")  # nothing listens there
    app, auth = make_app(empty_database_url, throttle=LoginThrottle(store))
    auth.create_user_sync(PASSWORD, username="ada")
    with TestClient(app, follow_redirects=False) as client:
        refused = log_in(client)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "30"
        assert "Logging in is unavailable for a moment." in refused.text
        assert client.get("/whoami").json() == {"user": None}
    app.state.database.close()
