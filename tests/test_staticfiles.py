"""Static files: content types, caching validators, ranges, precompressed files, traversal."""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from nightowl import App
from nightowl.exceptions import ImproperlyConfigured
from nightowl.staticfiles import StaticFiles
from nightowl.testing import TestClient
from tests.live import live_server

CSS = b"body { color: rebeccapurple; }\n" * 10


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``tmp_path/static`` with a few files, and a secret next to it that must never leak."""
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_bytes(CSS)
    (static / "app.js").write_text("console.log('hi');\n")
    (static / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (static / "font.woff2").write_bytes(b"wOF2")
    (static / "data.bin").write_bytes(bytes(range(256)))
    (static / "docs").mkdir()
    (static / "docs" / "index.html").write_text("<h1>docs</h1>")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET")
    os.symlink(outside, static / "link-out")
    os.symlink(tmp_path / "secret.txt", static / "link-file")
    os.symlink(static / "css" / "site.css", static / "alias.css")  # inside: allowed
    return static


@pytest.fixture
def app(site: Path) -> App:
    app = App()
    app.static("/static", site)

    @app.get("/")
    def home() -> dict[str, str]:
        return {"css": app.url_path_for("static", path="css/site.css")}

    return app


def test_serves_files_with_content_types_and_cache_headers(app: App) -> None:
    with TestClient(app) as client:
        css = client.get("/static/css/site.css")
        assert css.status_code == 200
        assert css.content == CSS
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert css.headers["content-length"] == str(len(CSS))
        assert css.headers["cache-control"] == "public, max-age=3600"
        assert css.headers["etag"].startswith('"')
        assert css.headers["last-modified"].endswith("GMT")
        assert css.headers["accept-ranges"] == "bytes"
        assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/logo.svg").headers["content-type"] == "image/svg+xml"
        assert client.get("/static/font.woff2").headers["content-type"] == "font/woff2"
        assert client.get("/static/data.bin").headers["content-type"] == "application/octet-stream"
        assert client.get("/static/alias.css").content == CSS  # a symlink inside the folder


def test_url_path_for_the_mount_name(app: App) -> None:
    with TestClient(app) as client:
        assert client.get("/").json() == {"css": "/static/css/site.css"}


def test_conditional_requests_answer_304(app: App) -> None:
    with TestClient(app) as client:
        first = client.get("/static/css/site.css")
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = client.get("/static/css/site.css", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=3600"
        since = client.get("/static/css/site.css", headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        stale = client.get("/static/css/site.css", headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200
        assert stale.content == CSS


def test_range_requests(app: App) -> None:
    with TestClient(app) as client:
        part = client.get("/static/data.bin", headers={"Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.content == bytes(range(10, 20))
        assert part.headers["content-range"] == "bytes 10-19/256"
        tail = client.get("/static/data.bin", headers={"Range": "bytes=-6"})
        assert tail.content == bytes(range(250, 256))
        beyond = client.get("/static/data.bin", headers={"Range": "bytes=999-"})
        assert beyond.status_code == 416
        assert beyond.headers["content-range"] == "bytes */256"


def test_head_and_unsafe_methods(app: App) -> None:
    with TestClient(app) as client:
        head = client.head("/static/css/site.css")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len(CSS))
        post = client.post("/static/css/site.css")
        assert post.status_code == 405
        assert post.headers["allow"] == "GET, HEAD"


def test_precompressed_gzip_sent_when_asked(app: App, site: Path) -> None:
    (site / "css" / "site.css.gz").write_bytes(gzip.compress(CSS))
    with TestClient(app) as client:
        zipped = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["content-type"] == "text/css; charset=utf-8"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.content == CSS  # httpx decodes it
        plain = client.get("/static/css/site.css", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.headers["etag"] != zipped.headers["etag"]


def test_folders_and_missing_files_are_404(app: App) -> None:
    with TestClient(app) as client:
        assert client.get("/static/docs").status_code == 404
        assert client.get("/static/docs/").status_code == 404
        assert client.get("/static").status_code == 404
        missing = client.get("/static/nope.css")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"


def test_html_mode_serves_index_and_404_page(site: Path) -> None:
    (site / "404.html").write_text("<p>lost</p>")
    app = App()
    app.static("/site", site, html=True)
    with TestClient(app) as client:
        assert client.get("/site/docs/").text == "<h1>docs</h1>"
        missing = client.get("/site/nothing")
        assert missing.status_code == 404
        assert missing.text == "<p>lost</p>"


def test_more_folders_on_the_same_prefix(app: App, tmp_path: Path) -> None:
    battery = tmp_path / "battery_static"
    (battery / "admin").mkdir(parents=True)
    (battery / "admin" / "admin.css").write_text("h1 {}")
    (battery / "css").mkdir()
    (battery / "css" / "site.css").write_text("shadowed")
    assert app.static("/static", battery) is app.static("/static", battery)
    with TestClient(app) as client:
        assert client.get("/static/admin/admin.css").text == "h1 {}"
        assert client.get("/static/css/site.css").content == CSS  # the app's own folder wins


def test_package_static_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkgroot" / "mybattery"
    (package / "static").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "static" / "b.css").write_text("b {}")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgroot"))
    app = App()
    app.mount("/assets", StaticFiles(packages=["mybattery"]), name="assets")
    with TestClient(app) as client:
        assert client.get("/assets/b.css").text == "b {}"
    with pytest.raises(ImproperlyConfigured, match="not an importable package"):
        StaticFiles(packages=["no_such_package_here"])


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        App().static("/static", tmp_path / "nope")


def test_custom_cache_control(site: Path) -> None:
    app = App()
    app.static("/static", site, cache_control="public, max-age=31536000, immutable")
    with TestClient(app) as client:
        cache = client.get("/static/app.js").headers["cache-control"]
        assert cache == "public, max-age=31536000, immutable"


# -- traversal: every attempt is a 404, in-process and through a real server ---------------------

TRAVERSALS = [
    "/static/../secret.txt",
    "/static/css/../../secret.txt",
    "/static/%2e%2e/secret.txt",
    "/static/%2E%2E/secret.txt",
    "/static/.%2e/secret.txt",
    "/static/%2e%2e%2fsecret.txt",
    "/static/..%2fsecret.txt",
    "/static/..%2Fsecret.txt",
    "/static/css%2f..%2f..%2fsecret.txt",
    "/static/..%5csecret.txt",
    "/static/css/..%5C..%5Csecret.txt",
    "/static/%5c..%5csecret.txt",
    "/static/..\\secret.txt",
    "/static/css\\..\\..\\secret.txt",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/%2Fetc/passwd",
    "/static/C:/Windows/win.ini",
    "/static/c:%5cwindows%5cwin.ini",
    "/static/secret.txt%00.css",
    "/static/css/site.css%00",
    "/static/%00",
    "/static/link-out/secret.txt",
    "/static/link-file",
    "/static/%252e%252e/secret.txt",
]


async def _asgi_get(app: App, raw: str) -> tuple[int, bytes]:
    """Call the app the way uvicorn would: ``path`` percent-decoded, ``raw_path`` as sent."""
    raw_path = raw.encode("ascii")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "surrogateescape"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    status = 0
    body = b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body += message.get("body", b"")

    await app(scope, receive, send)
    return status, body


@pytest.mark.parametrize("raw", TRAVERSALS)
def test_traversal_is_404_in_process(app: App, raw: str) -> None:
    status, body = asyncio.run(_asgi_get(app, raw))
    assert status == 404, raw
    assert b"SECRET" not in body


def _raw_get(base: str, raw: str) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode("ascii"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest


def test_traversal_is_404_through_a_real_server(app: App) -> None:
    with live_server(app) as base:
        assert _raw_get(base, "/static/css/site.css")[0] == 200
        for raw in TRAVERSALS:
            status, body = _raw_get(base, raw)
            assert status == 404, raw
            assert b"SECRET" not in body, raw


def test_a_single_page_app_at_the_root(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=app></div>")
    (dist / "assets" / "main.js").write_text("render();")
    app = App()
    app.static("/", dist, html=True)

    @app.get("/api/items")
    def items() -> list[int]:
        return [1, 2]

    with TestClient(app) as client:
        home = client.get("/")
        assert (home.status_code, home.text) == (200, "<div id=app></div>")
        assert home.headers["content-type"].startswith("text/html")
        assert client.get("/assets/main.js").text == "render();"
        # Client-side routes get index.html; the API and the docs still answer themselves.
        for route in ("/settings/profile", "/items/3"):
            page = client.get(route)
            assert (page.status_code, page.text) == (200, "<div id=app></div>"), route
        assert client.get("/api/items").json() == [1, 2]
        assert client.get("/openapi.json").json()["paths"].keys() == {"/api/items"}
        assert "swagger" in client.get("/docs").text.lower()
        # A missing script is a 404, not the page (the browser would run HTML as JS).
        missing = client.get("/assets/gone.js")
        assert missing.status_code == 404
        assert client.get("/../secret.txt").status_code == 404
        assert client.get("/elsewhere", headers={"accept": "text/html"}).status_code == 200
        assert client.post("/api/itemz").status_code == 404  # a typo in an API call
        assert client.post("/api/items").status_code == 405  # the route, another method


def test_only_one_app_at_the_root(tmp_path: Path) -> None:
    app = App()
    app.static("/", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="Only one app"):
        app.mount("/", StaticFiles(tmp_path))
    with pytest.raises(ImproperlyConfigured, match="must start with '/'"):
        app.mount("static", StaticFiles(tmp_path))
