"""GZipMiddleware: what gets compressed, how, and what is left alone."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nightowl import App, FileResponse, HTTPException, Response, StreamingResponse
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware import GZipMiddleware
from nightowl.responses import dump_json
from nightowl.testing import TestClient
from nightowl.types import Message

TEXT = "The quick brown fox jumps over the lazy dog. " * 100  # 4,500 bytes
ROWS = [{"id": i, "name": f"row number {i}"} for i in range(200)]
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
CallASGI = Callable[..., list[Message]]


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/text")
    def text() -> Response:
        return Response(TEXT, media_type="text/plain")

    @app.get("/rows")
    def rows() -> list[dict[str, Any]]:
        return ROWS

    @app.get("/small")
    def small() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/typed/{kind:path}")
    def typed(kind: str) -> Response:
        return Response(TEXT.encode(), media_type=kind)

    @app.get("/encoded")
    def encoded() -> Response:
        return Response(TEXT, media_type="text/plain", headers={"Content-Encoding": "br"})

    @app.get("/no-transform")
    def no_transform() -> Response:
        return Response(TEXT, media_type="text/plain", headers={"Cache-Control": "no-transform"})

    @app.get("/tagged")
    def tagged() -> Response:
        return Response(TEXT, media_type="text/html", headers={"ETag": '"v1"'})

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[str]:
            for i in range(5):
                yield f"chunk {i}: " + "x" * 300 + "\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/events")
    def events() -> StreamingResponse:
        return StreamingResponse(
            iter(["data: " + "x" * 600 + "\n\n"]), media_type="text/event-stream"
        )

    @app.get("/problem")
    def problem() -> None:
        raise HTTPException(409, "conflict " * 100)

    app.add_middleware(GZipMiddleware, **options)
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


def test_text_is_compressed(client: TestClient) -> None:
    response = client.get("/text", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(TEXT) // 10
    assert response.text == TEXT  # httpx decompresses


def test_compressed_bytes_are_valid_gzip_with_matching_length(call_asgi: CallASGI) -> None:
    start, body = call_asgi(make_app(), "/rows", GZIP)
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert body.get("more_body", False) is False
    assert gzip.decompress(body["body"]) == dump_json(ROWS)


def test_client_without_gzip_gets_identity(client: TestClient) -> None:
    response = client.get("/text", headers=IDENTITY)
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(TEXT))
    assert response.text == TEXT


@pytest.mark.parametrize(
    ("accept", "compressed"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("GZIP", True),
        ("*", True),
        ("br, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("br", False),
        ("", False),
    ],
)
def test_accept_encoding_negotiation(client: TestClient, accept: str, compressed: bool) -> None:
    response = client.get("/text", headers={"Accept-Encoding": accept})
    assert ("content-encoding" in response.headers) is compressed
    assert response.text == TEXT


def test_small_bodies_are_not_compressed(client: TestClient) -> None:
    response = client.get("/small", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.json() == {"hello": "world"}


def test_minimum_size_is_configurable() -> None:
    with TestClient(make_app(minimum_size=0, compresslevel=9)) as client:
        response = client.get("/small", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"hello": "world"}


@pytest.mark.parametrize(
    "media_type",
    [
        "text/html",
        "text/css",
        "text/csv",
        "application/json",
        "application/problem+json",
        "application/ld+json",
        "application/javascript",
        "text/javascript",
        "application/xml",
        "application/atom+xml",
        "image/svg+xml",
    ],
)
def test_compressible_types(client: TestClient, media_type: str) -> None:
    response = client.get(f"/typed/{media_type}", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == TEXT.encode()


@pytest.mark.parametrize(
    "media_type",
    ["image/png", "image/jpeg", "video/mp4", "application/zip", "application/octet-stream"],
)
def test_incompressible_types_are_left_alone(client: TestClient, media_type: str) -> None:
    response = client.get(f"/typed/{media_type}", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert response.content == TEXT.encode()


def test_existing_content_encoding_is_untouched(call_asgi: CallASGI) -> None:
    start, body = call_asgi(make_app(), "/encoded", GZIP)
    assert dict(start["headers"])[b"content-encoding"] == b"br"
    assert body["body"] == TEXT.encode()


def test_no_transform_is_respected(client: TestClient) -> None:
    response = client.get("/no-transform", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.text == TEXT


def test_problem_responses_are_compressed(client: TestClient) -> None:
    response = client.get("/problem", headers=GZIP)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["detail"] == "conflict " * 100


def test_etag_becomes_weak(client: TestClient) -> None:
    assert client.get("/tagged", headers=GZIP).headers["etag"] == 'W/"v1"'
    assert client.get("/tagged", headers=IDENTITY).headers["etag"] == '"v1"'


def test_streaming_is_compressed_chunk_by_chunk(call_asgi: CallASGI) -> None:
    start, *bodies = call_asgi(make_app(), "/stream", GZIP)
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers
    assert headers[b"vary"] == b"Accept-Encoding"
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    received = b""
    for index, message in enumerate(bodies[:5]):
        received += decompressor.decompress(message["body"])
        # Every chunk is flushed: the client can read it before the stream ends.
        assert received.endswith(f"chunk {index}: ".encode() + b"x" * 300 + b"\n")
        assert message["more_body"] is True
    assert bodies[-1].get("more_body", False) is False
    received += decompressor.decompress(bodies[-1]["body"]) + decompressor.flush()
    assert decompressor.eof
    expected = "".join(f"chunk {i}: " + "x" * 300 + "\n" for i in range(5))
    assert received == expected.encode()


def test_streaming_through_the_client(client: TestClient) -> None:
    response = client.get("/stream", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.count("chunk") == 5


def test_event_streams_are_never_compressed(client: TestClient) -> None:
    response = client.get("/events", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.text == "data: " + "x" * 600 + "\n\n"


def test_head_is_not_compressed(client: TestClient) -> None:
    response = client.head("/text", headers=GZIP)
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(TEXT))


def test_files_are_compressed_but_ranges_are_not(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text(TEXT)
    app = App()

    @app.get("/notes")
    def notes() -> FileResponse:
        return FileResponse(target)

    app.add_middleware(GZipMiddleware)
    with TestClient(app) as client:
        whole = client.get("/notes", headers=GZIP)
        part = client.get("/notes", headers={**GZIP, "Range": "bytes=0-9"})
    assert whole.headers["content-encoding"] == "gzip"
    assert "accept-ranges" not in whole.headers
    assert whole.text == TEXT
    assert part.status_code == 206
    assert "content-encoding" not in part.headers
    assert part.text == TEXT[:10]


@pytest.mark.parametrize(
    "options", [{"compresslevel": 0}, {"compresslevel": 10}, {"minimum_size": -1}]
)
def test_bad_configuration_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        GZipMiddleware(App(), **options)
