"""Two "hosts" (network namespaces, each with its own address) running the app, sharing
one Redis for sessions and channels: a session made on one is valid on the other, and a
broadcast crosses from one to the other."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.channels.netns import hosts, why_not_available
from tests.channels.servers import own_redis
from tests.channels.test_workers import post, receive, worker, ws_connect

pytestmark = pytest.mark.slow


def test_a_session_and_a_broadcast_cross_hosts(tmp_path: Path) -> None:
    reason = why_not_available()
    if reason is not None:
        pytest.skip(f"two hosts need network namespaces: {reason}")
    with hosts(2) as (one, two), own_redis(tmp_path, also=[one.gateway, two.gateway]) as redis:
        envs = [
            {
                "NIGHTOWL_CHANNELS": redis.url_for(host.gateway),
                "SESSIONS_URL": redis.url_for(host.gateway),
                "HOST_NAME": name,
            }
            for host, name in ((one, "one"), (two, "two"))
        ]
        with (
            worker(envs[0], host=one.address, wrap=one.wrap()) as a,
            worker(envs[1], host=two.address, wrap=two.wrap()) as b,
        ):
            assert a.startswith(f"http://{one.address}:")
            assert b.startswith(f"http://{two.address}:")
            login = httpx.post(a + "/login/ada", timeout=10)
            assert login.status_code == 200
            cookie = login.headers["set-cookie"].split(";", 1)[0]
            me = httpx.get(b + "/me", headers={"Cookie": cookie}, timeout=10)
            assert me.json() == {"user": "ada", "host": "two"}
            assert httpx.get(b + "/me", timeout=10).json() == {"user": None, "host": "two"}

            with ws_connect(a, "/rooms/42") as ws:
                assert receive(ws) == {"type": "ready"}
                post(b, "from host two")
                assert receive(ws) == {"user": "ada", "text": "from host two"}
