"""FileResponse under many ranges: the range cap, merging, one open file per response.

The attack requests go through a real uvicorn server on a raw socket, so the ``Range``
header reaches nightowl byte for byte as an attacker would send it.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nightowl import App, FileResponse
from nightowl.testing import TestClient
from tests.live import live_server

DATA = bytes(range(256)) * 400  # 102,400 bytes, every byte's value its offset mod 256

#: Paths whose opens are being counted, and what was opened (see ``_count_opens``).
_watched: dict[str, int] = {}


def _count_opens(event: str, args: tuple[Any, ...]) -> None:
    # An audit hook sees every open of the file, however the code opens it (open, os.open).
    if event == "open" and args and isinstance(args[0], str) and args[0] in _watched:
        _watched[args[0]] += 1


sys.addaudithook(_count_opens)


@pytest.fixture
def data_path(tmp_path: Path) -> Iterator[Path]:
    """A 100 KiB file whose opens are counted in ``_watched``."""
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    _watched[str(path)] = 0
    yield path
    del _watched[str(path)]


@pytest.fixture
def data_app(data_path: Path) -> App:
    """An app serving ``data_path`` at ``/data``."""
    app = App()

    @app.get("/data")
    def data() -> FileResponse:
        return FileResponse(data_path)

    return app


def _raw_get(
    base: str, headers: dict[str, str], method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """Send one request on a raw socket; the status, headers (lower-case) and body."""
    host, port = base.removeprefix("http://").split(":")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"{method} /data HTTP/1.1\r\nHost: x\r\n{head}Connection: close\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode("ascii"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
    response_headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        response_headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), response_headers, body


def _one_byte_ranges(count: int) -> str:
    """``bytes=0-0,2-2,4-4,...``: ``count`` disjoint one-byte ranges that cannot be merged."""
    return "bytes=" + ",".join(f"{2 * n}-{2 * n}" for n in range(count))


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (Content-Range, data) of each part of a ``multipart/byteranges`` body."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts: list[tuple[str, bytes]] = []
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((fields["Content-Range"], data.removesuffix(b"\r\n")))
    return parts


def test_ten_thousand_ranges_do_not_pin_the_server(data_app: App, data_path: Path) -> None:
    with live_server(data_app) as base:
        status, headers, body = _raw_get(base, {"Range": _one_byte_ranges(10_000)})
        assert status == 200
        assert body == DATA
        assert headers["content-length"] == str(len(DATA))
        assert "content-range" not in headers
        # The server is free again at once: a normal range request is answered.
        status, headers, body = _raw_get(base, {"Range": "bytes=0-9"})
        assert (status, body) == (206, DATA[:10])
    assert _watched[str(data_path)] == 2  # one open per response, not one per range


def test_ranges_up_to_the_limit_are_sent_as_multipart(data_app: App) -> None:
    limit = FileResponse.max_ranges
    assert limit == 100  # the documented default
    with live_server(data_app) as base:
        status, headers, body = _raw_get(base, {"Range": _one_byte_ranges(limit)})
        assert status == 206
        assert headers["content-length"] == str(len(body))
        parts = _multipart_parts(headers["content-type"], body)
        assert parts == [
            (f"bytes {2 * n}-{2 * n}/{len(DATA)}", DATA[2 * n : 2 * n + 1]) for n in range(limit)
        ]

        status, headers, body = _raw_get(base, {"Range": _one_byte_ranges(limit + 1)})
        assert (status, body) == (200, DATA)


def test_the_range_limit_counts_ranges_as_sent_not_as_merged(data_app: App) -> None:
    with live_server(data_app) as base:
        same_byte = "bytes=" + ",".join(["5-5"] * (FileResponse.max_ranges + 1))
        status, _, body = _raw_get(base, {"Range": same_byte})
        assert (status, body) == (200, DATA)


def test_a_hundred_ranges_open_the_file_once(data_app: App, data_path: Path) -> None:
    with live_server(data_app) as base:
        status, _, _ = _raw_get(base, {"Range": _one_byte_ranges(100)})
        assert status == 206
        assert _watched[str(data_path)] == 1
        status, _, body = _raw_get(base, {})
        assert (status, body) == (200, DATA)
        assert _watched[str(data_path)] == 2
        status, _, body = _raw_get(base, {"Range": "bytes=0-99,200-299"}, method="HEAD")
        assert (status, body) == (206, b"")
        assert _watched[str(data_path)] == 2  # HEAD never opens the file


def test_overlapping_and_adjacent_ranges_are_merged_into_one_part(data_app: App) -> None:
    with live_server(data_app) as base:
        status, headers, body = _raw_get(base, {"Range": "bytes=10-19,0-4,5-9,15-24"})
        assert status == 206
        assert headers["content-range"] == f"bytes 0-24/{len(DATA)}"
        assert body == DATA[:25]

        # Ranges a byte apart stay separate parts, in file order.
        status, headers, body = _raw_get(base, {"Range": "bytes=20-29,0-9"})
        assert status == 206
        assert _multipart_parts(headers["content-type"], body) == [
            (f"bytes 0-9/{len(DATA)}", DATA[:10]),
            (f"bytes 20-29/{len(DATA)}", DATA[20:30]),
        ]


def test_ranges_larger_than_a_chunk_are_sent_whole(data_app: App) -> None:
    chunk = FileResponse.chunk_size
    with live_server(data_app) as base:
        status, headers, body = _raw_get(base, {"Range": f"bytes=1-{chunk + 9},{chunk + 20}-"})
    assert status == 206
    assert _multipart_parts(headers["content-type"], body) == [
        (f"bytes 1-{chunk + 9}/{len(DATA)}", DATA[1 : chunk + 10]),
        (f"bytes {chunk + 20}-{len(DATA) - 1}/{len(DATA)}", DATA[chunk + 20 :]),
    ]


def test_a_subclass_sets_its_own_range_limit(data_path: Path) -> None:
    class FewRanges(FileResponse):
        max_ranges = 2

    app = App()

    @app.get("/data")
    def data() -> FileResponse:
        return FewRanges(data_path)

    with TestClient(app) as client:
        assert client.get("/data", headers={"Range": "bytes=0-0,2-2"}).status_code == 206
        whole = client.get("/data", headers={"Range": "bytes=0-0,2-2,4-4"})
    assert (whole.status_code, whole.content) == (200, DATA)


def test_one_file_response_can_be_sent_twice(data_path: Path) -> None:
    app = App()
    shared = FileResponse(data_path, media_type="application/octet-stream")

    @app.get("/data")
    def data() -> FileResponse:
        return shared

    with TestClient(app) as client:
        ranged = client.get("/data", headers={"Range": "bytes=0-0,2-2"})
        plain = client.get("/data")
    assert ranged.headers["content-type"].startswith("multipart/byteranges")
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/octet-stream"
    assert plain.content == DATA
    assert "content-range" not in plain.headers


def test_an_empty_file_is_sent_without_ranges(tmp_path: Path) -> None:
    path = tmp_path / "empty.bin"
    path.write_bytes(b"")
    app = App()

    @app.get("/data")
    def data() -> FileResponse:
        return FileResponse(path)

    with live_server(app) as base:
        status, headers, body = _raw_get(base, {})
        assert (status, headers["content-length"], body) == (200, "0", b"")
        status, headers, _ = _raw_get(base, {"Range": "bytes=0-"})
        assert (status, headers["content-range"]) == (416, "bytes */0")
