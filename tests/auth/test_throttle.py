"""Failed logins throttled per account and per client: 429 with Retry-After."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nightowl.auth.throttle import LoginThrottle, MemoryThrottleStore, RedisThrottleStore
from nightowl.testing import TestClient
from tests.auth.conftest import PASSWORD, SECRET, log_in, make_app
from tests.live import free_port
from tests.redis_server import NEEDS_REDIS, REDIS_URL


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


@NEEDS_REDIS
def test_two_workers_share_the_count_in_redis(empty_database_url: str) -> None:
    """Two apps (two workers) with their own throttle objects, one Redis."""
    prefix = f"test:{uuid.uuid4().hex}:"
    workers = []
    for _ in range(2):
        store = RedisThrottleStore(REDIS_URL, prefix=prefix)
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


WORKER_APP = """
import os

from nightowl import App
from nightowl.auth import Auth, PasswordHasher
from nightowl.auth.throttle import LoginThrottle, RedisThrottleStore

app = App(database=os.environ["DATABASE_URL"], secret_key=os.environ["SECRET_KEY"])
store = RedisThrottleStore("redis://127.0.0.1:6379/0", prefix=os.environ["THROTTLE_PREFIX"])
auth = Auth(
    app,
    hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    throttle=LoginThrottle(store, max_per_account=3, window=60),
)


@app.get("/pid")
def pid():
    return {"pid": os.getpid()}
"""


@contextlib.contextmanager
def _uvicorn(folder: Path, env: dict[str, str]) -> Iterator[str]:
    """``uvicorn app:app`` in a process of its own; its URL once it answers."""
    port = free_port()
    log = (folder / f"uvicorn-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port), "--log-level", "warning"],
        cwd=folder,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (folder / f"uvicorn-{port}.log").read_text()
            try:
                httpx.get(url + "/pid", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.mark.slow
@NEEDS_REDIS
def test_two_uvicorn_workers_share_the_count_in_redis(
    empty_database_url: str, tmp_path: Path
) -> None:
    """Failures on worker A (the token endpoint) count on worker B (the login page)."""
    app, auth = make_app(empty_database_url)
    auth.create_user_sync(PASSWORD, username="ada")
    app.state.database.close()
    (tmp_path / "app.py").write_text(WORKER_APP)
    env = {
        "DATABASE_URL": empty_database_url,
        "SECRET_KEY": SECRET,
        "THROTTLE_PREFIX": f"test:{uuid.uuid4().hex}:",
        "PYTHONPATH": str(tmp_path),
    }
    with _uvicorn(tmp_path, env) as a, _uvicorn(tmp_path, env) as b:
        assert httpx.get(a + "/pid").json() != httpx.get(b + "/pid").json()
        wrong = {"grant_type": "password", "username": "ada", "password": "guess"}
        for url in [a, b, a]:
            assert httpx.post(url + "/auth/token", data=wrong).status_code == 400
        with httpx.Client(base_url=b) as browser:
            blocked = log_in(browser)  # the right password, on the other worker
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["retry-after"]) <= 60
        right = {**wrong, "password": PASSWORD}
        refused = httpx.post(a + "/auth/token", data=right)
        assert refused.status_code == 429 and "retry-after" in refused.headers
