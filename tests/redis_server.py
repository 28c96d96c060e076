"""The Redis server the tests use, when one answers: ``NEEDS_REDIS`` skips a test without it."""

from __future__ import annotations

import socket

import pytest

#: Where the tests look for Redis (CONTRIBUTING.md, "Services the tests use").
REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_up() -> bool:
    """Whether a Redis server answers ``PING`` at 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


#: Put on a test (or ``pytestmark``) that needs the server.
NEEDS_REDIS = pytest.mark.skipif(not redis_up(), reason="no Redis server answers at 127.0.0.1:6379")
