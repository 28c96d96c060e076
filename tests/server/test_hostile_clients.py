"""What a hostile client sends straight down a socket, against every server nightowl
launches: uvicorn with h11 (what a base install has), uvicorn with httptools, granian."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import pytest

# The servers here are real processes, one for each kind of server nightowl launches.
pytestmark = pytest.mark.slow

Server = Any


def _exchange(server: Server, raw: bytes, timeout: float = 10.0) -> tuple[bytes, bool]:
    """Send ``raw`` on a new connection; everything the server answers, and whether it
    closed the connection (rather than waiting for more)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)  # the server may refuse before reading everything
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            return received, False
        except ConnectionResetError:
            pass
        return received, True


def _statuses(answer: bytes) -> list[int]:
    return [int(line.split()[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.")]


def test_request_smuggling_with_content_length_and_transfer_encoding_is_refused(
    launched: Server,
) -> None:
    smuggled = b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" + smuggled
    )
    answer, closed = _exchange(launched, raw)
    if launched.kind == "granian":
        # hyper itself settles the conflict as RFC 9112 says (Transfer-Encoding wins, the
        # Content-Length is dropped before the app sees the request) and then closes.
        assert len(_statuses(answer)) == 1, answer
    else:
        assert _statuses(answer) == [400], answer
    assert b"pid" not in answer  # the smuggled request is never answered
    assert closed


def test_a_header_over_the_limit_gets_431(launched: Server) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (64 * 1024) + b"\r\n\r\n"
    answer, closed = _exchange(launched, raw)
    assert _statuses(answer) == [431], answer[:200]
    assert closed


def test_a_16_mb_header_is_refused_before_it_is_buffered(launched: Server) -> None:
    raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 * 1024 * 1024) + b"\r\n\r\n"
    answer, closed = _exchange(launched, raw)
    assert _statuses(answer)[0] in (400, 431), answer[:200]
    assert closed


def test_ten_thousand_headers_get_431(launched: Server) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))
    answer, closed = _exchange(launched, b"GET / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    assert _statuses(answer) == [431], answer[:200]
    assert closed


@pytest.mark.parametrize("count", [20, 100])
def test_ordinary_requests_still_pass(launched: Server, count: int) -> None:
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(count - 2))
    answer, _ = _exchange(
        launched, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n"
    )
    assert _statuses(answer) == [200], answer[:200]
