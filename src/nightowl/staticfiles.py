"""Serve a folder of static files (CSS, JavaScript, images) safely and cache-friendly.

::

    app = App()
    app.static("/static", "static")          # GET /static/css/site.css -> static/css/site.css

Files are streamed from disk by :class:`~nightowl.responses.FileResponse`, so ETag,
Last-Modified, 304 answers and Range requests all work. A request that tries to leave
the folder (``..``, encoded slashes or dots, backslashes, absolute paths, NUL bytes,
symlinks that point outside) always gets a 404, as does anything that is not a file.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Iterable
from mimetypes import guess_type
from pathlib import Path

from nightowl._concurrency import run_in_threadpool
from nightowl.datastructures import Headers
from nightowl.exceptions import ImproperlyConfigured
from nightowl.problems import error_response
from nightowl.responses import FileResponse
from nightowl.types import Receive, Scope, Send

__all__ = ["StaticFiles", "content_type_for"]

# Types that platform MIME tables get wrong or miss (``.js`` as text/plain on some Windows).
_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".ico": "image/vnd.microsoft.icon",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".html": "text/html",
}
# Precompressed siblings (``site.css.gz``) are sent to clients that accept them.
_ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
_FORBIDDEN_ESCAPES = (b"%2f", b"%5c", b"%00")


def content_type_for(filename: str) -> str:
    """The ``Content-Type`` to send ``filename`` with (``application/octet-stream`` if unknown)."""
    suffix = os.path.splitext(filename)[1].lower()
    return _TYPES.get(suffix) or guess_type(filename)[0] or "application/octet-stream"


def _package_folder(package: str, folder: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImproperlyConfigured(f"StaticFiles: {package!r} is not an importable package.")
    return Path(next(iter(spec.submodule_search_locations))) / folder


class StaticFiles:
    """An ASGI app serving files from one or more folders; the first folder holding a path wins.

    Mount it with :meth:`nightowl.App.static` (or ``app.mount(prefix, StaticFiles(...))``).

    Args:
        directory: the folder to serve (``None`` to start with only ``packages``).
        packages: packages whose ``static/`` folder is searched after ``directory``,
            such as a battery's own CSS: ``packages=["nightowl_admin"]``.
        max_age: seconds browsers and proxies may reuse a file without asking again
            (``Cache-Control: public, max-age=...``); they revalidate with the ETag after.
        cache_control: the whole ``Cache-Control`` value, overriding ``max_age``
            (``"public, max-age=31536000, immutable"`` for fingerprinted file names).
        html: serve ``index.html`` for a folder and ``404.html`` (if present) for misses.
        fallback: a file served (status 200) for a missing page, the way a single-page
            app's client-side routes (``/settings/profile``) get its ``index.html``: for
            paths whose last segment has no extension, or requests that accept HTML.
            ``app.static("/", "dist", html=True)`` sets it to ``"index.html"``.
        check_dir: raise :class:`~nightowl.exceptions.ImproperlyConfigured` now if a folder
            does not exist, instead of answering 404 to everything.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        packages: Iterable[str] = (),
        max_age: int = 3600,
        cache_control: str | None = None,
        html: bool = False,
        fallback: str | None = None,
        check_dir: bool = True,
    ) -> None:
        self.directories: list[Path] = []
        self.cache_control = cache_control or f"public, max-age={max_age}"
        self.html = html
        self.fallback = fallback
        self.check_dir = check_dir
        if directory is not None:
            self.add_directory(directory)
        for package in packages:
            self.add_directory(_package_folder(package, "static"))

    def add_directory(self, directory: str | os.PathLike[str]) -> None:
        """Search ``directory`` too, after the folders already added (a battery's ``static/``)."""
        folder = Path(directory)
        if self.check_dir and not folder.is_dir():
            raise ImproperlyConfigured(
                f"StaticFiles: the folder {str(folder)!r} does not exist "
                f"(resolved from {os.getcwd()!r})."
            )
        self.directories.append(folder.resolve())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError("StaticFiles only serves HTTP requests.")
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD") and self.fallback is not None:
            # At "/" behind an app's routes: a POST nothing answers is the app's 404.
            await self._not_found(scope, receive, send)
            return
        if method not in ("GET", "HEAD"):
            response = error_response(
                scope, 405, f"{method} is not allowed here.", headers={"Allow": "GET, HEAD"}
            )
            await response(scope, receive, send)
            return
        parts = _safe_parts(scope)
        found = None if parts is None else await run_in_threadpool(self.lookup, parts)
        if found is None and parts is not None and self._falls_back(parts, scope):
            assert self.fallback is not None
            found = await run_in_threadpool(self.lookup, self.fallback.split("/"))
        if found is None:
            await self._not_found(scope, receive, send)
            return
        full_path, stat_result = found
        await self._file_response(full_path, stat_result, scope)(scope, receive, send)

    def lookup(self, parts: list[str]) -> tuple[str, os.stat_result] | None:
        """The file a (validated) list of path segments names, with its ``stat``; ``None`` if none.

        Resolves symlinks and refuses anything that lands outside the folder it came from.
        """
        for directory in self.directories:
            candidate = os.path.realpath(os.path.join(directory, *parts))
            if os.path.commonpath((candidate, str(directory))) != str(directory):
                continue  # a symlink pointing outside the folder
            try:
                stat_result = os.stat(candidate)
            except (OSError, ValueError):
                continue
            if stat.S_ISDIR(stat_result.st_mode) and self.html:
                candidate = os.path.join(candidate, "index.html")
                try:
                    stat_result = os.stat(candidate)
                except OSError:
                    continue
            if stat.S_ISREG(stat_result.st_mode):
                return candidate, stat_result
        return None

    def _falls_back(self, parts: list[str], scope: Scope) -> bool:
        """Whether a missing path is a client-side route of a single-page app (not a
        missing script or image, which stays a 404)."""
        if self.fallback is None:
            return False
        if not parts or "." not in parts[-1]:
            return True
        return "text/html" in Headers(raw=scope["headers"]).get("accept", "")

    def _file_response(self, path: str, stat_result: os.stat_result, scope: Scope) -> FileResponse:
        media_type = content_type_for(path)
        headers = {"cache-control": self.cache_control}
        if media_type.startswith(("text/", "application/", "image/svg")):
            headers["vary"] = "Accept-Encoding"
            accepted = Headers(raw=scope["headers"]).get("accept-encoding", "")
            for encoding, suffix in _ENCODINGS:
                if encoding in accepted:
                    try:
                        compressed = os.stat(path + suffix)
                    except OSError:
                        continue
                    if stat.S_ISREG(compressed.st_mode):
                        headers["content-encoding"] = encoding
                        return FileResponse(
                            path + suffix,
                            headers=headers,
                            media_type=media_type,
                            stat_result=compressed,
                        )
        return FileResponse(path, headers=headers, media_type=media_type, stat_result=stat_result)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.html:
            found = await run_in_threadpool(self.lookup, ["404.html"])
            if found is not None:
                page = FileResponse(
                    found[0], status_code=404, media_type="text/html", stat_result=found[1]
                )
                await page(scope, receive, send)
                return
        app_error_response = getattr(scope.get("app"), "error_response", None)
        if app_error_response is not None:
            # The app's answer: its 404 handler, or an HTML page for browsers.
            from nightowl.exceptions import HTTPException
            from nightowl.requests import Request

            whole = {**scope, "path": scope.get("root_path", "") + scope["path"], "root_path": ""}
            response = await app_error_response(
                Request(whole, receive), HTTPException(404, "File not found.")
            )
            await response(scope, receive, send)
            return
        await error_response(scope, 404, "File not found.")(scope, receive, send)


def _safe_parts(scope: Scope) -> list[str] | None:
    """The request path as folder-relative segments, or ``None`` if it could escape the folder."""
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path:
        lowered = raw_path.lower()
        if any(escape in lowered for escape in _FORBIDDEN_ESCAPES):
            return None  # an encoded slash, backslash or NUL is never part of a real file name
    path: str = scope["path"]
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    if parts and parts[-1] == "":
        parts.pop()  # "/static/docs/" names the folder
    for part in parts:
        if (
            part in ("", ".", "..")
            or "\\" in part
            or "\x00" in part
            or ":" in part  # Windows drive letters and alternate data streams
        ):
            return None
    return parts
