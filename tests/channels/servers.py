"""Servers the channels tests start and stop themselves: a Redis of their own (restarted
mid-test, which the shared one on 6379 must never be)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

REDIS_SERVER = shutil.which("redis-server")


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check: object, timeout: float = 10.0, what: str = "the condition") -> None:
    """Poll ``check()`` until it is true."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class OwnRedis:
    """A ``redis-server`` on a free port, without persistence, that a test may restart."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", also: Sequence[str] = ()) -> None:
        if REDIS_SERVER is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.directory = directory
        self.host = host
        self.addresses = [host, *also]
        with socket.socket() as sock:
            sock.bind((host, 0))
            self.port = int(sock.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its ``redis://`` URL."""
        return self.url_for(self.host)

    def url_for(self, address: str) -> str:
        """Its ``redis://`` URL through ``address``, one of those it listens on."""
        return f"redis://{address}:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers."""
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", *self.addresses,
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "no",
                "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: reachable(self.port, self.host), what="redis-server to start")

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, pause: float = 0.5) -> None:
        """Stop, wait ``pause`` seconds, start again on the same port."""
        self.stop()
        time.sleep(pause)
        self.start()


@contextlib.contextmanager
def own_redis(
    directory: Path, host: str = "127.0.0.1", also: Sequence[str] = ()
) -> Iterator[OwnRedis]:
    """A running :class:`OwnRedis` listening on ``host`` and ``also``, stopped at the end."""
    server = OwnRedis(directory, host, also)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def read_events(lines: Any, count: int) -> list[dict[str, str]]:
    """The next ``count`` events of an SSE stream (pings skipped), as field dicts."""
    events: list[dict[str, str]] = []
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if event:
                events.append(event)
                event = {}
                if len(events) == count:
                    return events
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        event[name] = value
    raise AssertionError(f"the stream ended after {events}")
