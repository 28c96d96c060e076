"""The Redis server the tests use, when one answers: ``NEEDS_REDIS`` skips a test without
it, ``skip_without_redis()`` does the same from a fixture or a test's body.

The one probe of the suite: every test needing the shared server on 127.0.0.1:6379 asks
here, so the skip reason reads the same everywhere. (tests/channels/servers.py starts
Redis servers of its own, which a test may stop; it asks only whether the
``redis-server`` command exists.)
"""

from __future__ import annotations

import functools
import socket

import pytest

#: Where the tests look for Redis (CONTRIBUTING.md, "Services the tests use").
REDIS_URL = "redis://127.0.0.1:6379/0"
#: Why a test that needs Redis was skipped.
NO_REDIS = "no Redis server answers at 127.0.0.1:6379"


@functools.cache
def redis_up() -> bool:
    """Whether a Redis server answers ``PING`` at 127.0.0.1:6379 (asked once per run)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def skip_without_redis() -> None:
    """Skip the calling test (or fixture) when no Redis server answers."""
    if not redis_up():
        pytest.skip(NO_REDIS)


#: Put on a test (or ``pytestmark``) that needs the server.
NEEDS_REDIS = pytest.mark.skipif(not redis_up(), reason=NO_REDIS)
