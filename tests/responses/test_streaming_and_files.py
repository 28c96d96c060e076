"""StreamingResponse and FileResponse: bodies, conditional requests, ranges, HEAD, errors."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from nightowl import App, FileResponse, StreamingResponse
from nightowl.testing import TestClient

# -- StreamingResponse ---------------------------------------------------------------------------


def test_stream_from_a_sync_generator() -> None:
    app = App()
    threads: list[str] = []

    def numbers() -> Iterator[str]:
        for n in range(3):
            threads.append(threading.current_thread().name)
            yield f"{n}\n"

    @app.get("/numbers")
    def stream() -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    with TestClient(app) as client:
        response = client.get("/numbers")
    assert response.status_code == 200
    assert response.text == "0\n1\n2\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert threads and all(name.startswith("nightowl") for name in threads)


def test_stream_from_an_async_generator_of_bytes_and_str() -> None:
    app = App()

    async def chunks() -> AsyncIterator[bytes | str]:
        yield b"binary,"
        await asyncio.sleep(0)
        yield "text,"
        yield "caf\u00e9"

    @app.get("/chunks")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="application/octet-stream")

    with TestClient(app) as client:
        response = client.get("/chunks")
    assert response.content == "binary,text,caf\u00e9".encode()
    assert response.headers["content-type"] == "application/octet-stream"


def test_stream_status_headers_and_background_task() -> None:
    app = App()
    done: list[str] = []

    async def after() -> None:
        done.append("background")

    @app.get("/created")
    def stream() -> StreamingResponse:
        return StreamingResponse(
            iter([b"a", b"b"]), status_code=201, headers={"X-Extra": "1"}, background=after
        )

    with TestClient(app) as client:
        response = client.get("/created")
    assert (response.status_code, response.text, response.headers["x-extra"]) == (201, "ab", "1")
    assert done == ["background"]


def test_head_on_a_stream_sends_no_body_and_closes_the_generator() -> None:
    app = App()
    produced: list[int] = []

    def numbers() -> Iterator[bytes]:
        produced.append(1)
        yield b"never"

    @app.get("/numbers")
    def stream() -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    with TestClient(app) as client:
        response = client.head("/numbers")
    assert response.status_code == 200
    assert response.content == b""
    assert produced == []


async def _run_until_client_leaves(response: StreamingResponse, chunks_before_leaving: int) -> int:
    """Serve ``response`` to a fake client that disconnects after a few chunks."""
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    left = asyncio.Event()
    received: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not received:
            received.append({})
            return {"type": "http.request", "body": b"", "more_body": False}
        await left.wait()
        return {"type": "http.disconnect"}

    body_messages = 0

    async def send(message: Any) -> None:
        nonlocal body_messages
        if message["type"] == "http.response.body":
            body_messages += 1
            if body_messages >= chunks_before_leaving:
                left.set()

    await asyncio.wait_for(response(scope, receive, send), timeout=10)
    return body_messages


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_client_disconnect_stops_the_stream_and_runs_generator_cleanup(kind: str) -> None:
    cleaned_up = threading.Event()

    async def endless_async() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0.001)
        finally:
            cleaned_up.set()

    def endless_sync() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
                time.sleep(0.001)
        finally:
            cleaned_up.set()

    content = endless_async() if kind == "async" else endless_sync()
    sent = asyncio.run(_run_until_client_leaves(StreamingResponse(content), 3))
    assert sent >= 3
    assert cleaned_up.is_set()


# -- FileResponse --------------------------------------------------------------------------------

CONTENT = b"The quick brown fox jumps over the lazy dog.\n" * 3  # 135 bytes


@pytest.fixture
def file_path(tmp_path: Path) -> Path:
    path = tmp_path / "fox.txt"
    path.write_bytes(CONTENT)
    mtime = time.time() - 3600  # an hour ago, whole seconds like HTTP dates
    os.utime(path, (int(mtime), int(mtime)))
    return path


@pytest.fixture
def client(file_path: Path) -> Iterator[TestClient]:
    app = App()

    @app.get("/fox")
    def fox() -> FileResponse:
        return FileResponse(file_path)

    @app.post("/fox")
    def fox_post() -> FileResponse:
        return FileResponse(file_path)

    @app.get("/download")
    def download() -> FileResponse:
        return FileResponse(file_path, filename="report.txt")

    @app.get("/download-unicode")
    def download_unicode() -> FileResponse:
        return FileResponse(file_path, filename="r\u00e9sum\u00e9 final.txt")

    @app.get("/inline")
    def inline() -> FileResponse:
        return FileResponse(file_path, filename="fox.txt", content_disposition_type="inline")

    @app.get("/missing")
    def missing() -> FileResponse:
        return FileResponse(file_path.parent / "nope.txt")

    @app.get("/directory")
    def directory() -> FileResponse:
        return FileResponse(file_path.parent)

    with TestClient(app) as client:
        yield client


def test_whole_file(client: TestClient, file_path: Path) -> None:
    response = client.get("/fox")
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"].startswith('"')
    assert response.headers["last-modified"] == formatdate(file_path.stat().st_mtime, usegmt=True)
    assert "content-disposition" not in response.headers


def test_large_file_is_sent_whole(tmp_path: Path) -> None:
    data = os.urandom(FileResponse.chunk_size * 3 + 17)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    app = App()

    @app.get("/blob")
    def blob() -> FileResponse:
        return FileResponse(path)

    with TestClient(app) as client:
        response = client.get("/blob")
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"


def test_etag_and_if_none_match_gives_304(client: TestClient) -> None:
    etag = client.get("/fox").headers["etag"]
    response = client.get("/fox", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert client.get("/fox", headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get("/fox", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_none_match_does_not_apply_to_post(client: TestClient) -> None:
    etag = client.get("/fox").headers["etag"]
    response = client.post("/fox", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_last_modified_and_if_modified_since_gives_304(client: TestClient) -> None:
    last_modified = client.get("/fox").headers["last-modified"]
    response = client.get("/fox", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    assert response.content == b""
    older = formatdate(time.time() - 86400, usegmt=True)
    assert client.get("/fox", headers={"If-Modified-Since": older}).status_code == 200
    assert client.get("/fox", headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_single_range_gives_206(client: TestClient) -> None:
    response = client.get("/fox", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.content == CONTENT[:10]
    assert response.headers["content-range"] == f"bytes 0-9/{len(CONTENT)}"
    assert response.headers["content-length"] == "10"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_open_ended_and_suffix_ranges(client: TestClient) -> None:
    suffix = client.get("/fox", headers={"Range": "bytes=-5"})
    assert suffix.status_code == 206
    assert suffix.content == CONTENT[-5:]
    assert suffix.headers["content-range"] == f"bytes 130-134/{len(CONTENT)}"

    open_ended = client.get("/fox", headers={"Range": "bytes=130-"})
    assert open_ended.status_code == 206
    assert open_ended.content == CONTENT[130:]

    past_the_end = client.get("/fox", headers={"Range": "bytes=100-9999"})
    assert past_the_end.status_code == 206
    assert past_the_end.content == CONTENT[100:]
    assert past_the_end.headers["content-range"] == f"bytes 100-134/{len(CONTENT)}"


def test_multiple_ranges_give_multipart_byteranges(client: TestClient) -> None:
    response = client.get("/fox", headers={"Range": "bytes=0-4, 10-14"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=", 1)[1]
    body = response.content
    assert response.headers["content-length"] == str(len(body))
    assert body.endswith(f"--{boundary}--\r\n".encode())

    parts = body.split(f"--{boundary}".encode())[1:-1]
    decoded = []
    for part in parts:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        decoded.append((headers["Content-Range"], headers["Content-Type"], data[:-2]))
    assert decoded == [
        (f"bytes 0-4/{len(CONTENT)}", "text/plain; charset=utf-8", CONTENT[0:5]),
        (f"bytes 10-14/{len(CONTENT)}", "text/plain; charset=utf-8", CONTENT[10:15]),
    ]


def test_overlapping_ranges_are_merged(client: TestClient) -> None:
    response = client.get("/fox", headers={"Range": "bytes=0-9,5-19"})
    assert response.status_code == 206
    assert response.content == CONTENT[:20]
    assert response.headers["content-range"] == f"bytes 0-19/{len(CONTENT)}"


def test_unsatisfiable_range_gives_416(client: TestClient) -> None:
    response = client.get("/fox", headers={"Range": "bytes=1000-2000"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(CONTENT)}"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 416


def test_malformed_range_and_stale_if_range_send_the_whole_file(client: TestClient) -> None:
    for header in ("bytes=9-0", "lines=0-1", "bytes=abc"):
        response = client.get("/fox", headers={"Range": header})
        assert (response.status_code, response.content) == (200, CONTENT), header
    stale = client.get("/fox", headers={"Range": "bytes=0-9", "If-Range": '"old-etag"'})
    assert (stale.status_code, stale.content) == (200, CONTENT)
    etag = client.get("/fox").headers["etag"]
    fresh = client.get("/fox", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, CONTENT[:10])


def test_head_gives_headers_but_no_body(client: TestClient) -> None:
    response = client.head("/fox")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(CONTENT))
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "etag" in response.headers

    ranged = client.head("/fox", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert ranged.content == b""
    assert ranged.headers["content-length"] == "10"


def test_missing_file_is_a_404_problem(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    for url in ("/missing", "/directory"):
        with caplog.at_level("WARNING", "nightowl"):
            response = client.get(url)
        # The developer learns which path was missing; the client only that it is.
        assert f"is missing or not a file (GET {url} answered 404)" in caplog.text
        caplog.clear()
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "File not found.",
            "request_id": response.headers["x-request-id"],
        }


def test_filename_sets_content_disposition(client: TestClient) -> None:
    response = client.get("/download")
    assert response.headers["content-disposition"] == 'attachment; filename="report.txt"'
    assert response.content == CONTENT

    inline = client.get("/inline")
    assert inline.headers["content-disposition"] == 'inline; filename="fox.txt"'

    unicode = client.get("/download-unicode")
    assert unicode.headers["content-disposition"] == (
        "attachment; filename*=utf-8''r%C3%A9sum%C3%A9%20final.txt"
    )
