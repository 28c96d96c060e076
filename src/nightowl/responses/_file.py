"""``FileResponse``: a file from disk, with conditional and range requests."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from mimetypes import guess_type
from urllib.parse import quote

from nightowl._concurrency import run_in_threadpool
from nightowl.datastructures import Headers, MutableHeaders
from nightowl.responses._base import BackgroundCall, Response, problem_response
from nightowl.types import Receive, Scope, Send

__all__ = ["FileResponse"]


class FileResponse(Response):
    """Send a file from disk, streamed in chunks.

    Answers ``Range`` requests with 206 (or 416 when unsatisfiable), sets ``ETag``
    and ``Last-Modified``, and answers 304 to a matching ``If-None-Match`` or
    ``If-Modified-Since``.
    """

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundCall | None = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.filename = filename
        self.background = background
        self.media_type = (
            media_type or guess_type(filename or self.path)[0] or "application/octet-stream"
        )
        self.init_headers(headers)
        if filename is not None:
            quoted = quote(filename)
            if quoted != filename:
                disposition = f"{content_disposition_type}; filename*=utf-8''{quoted}"
            else:
                disposition = f'{content_disposition_type}; filename="{filename}"'
            self.raw_headers.append((b"content-disposition", disposition.encode("latin-1")))
        self.stat_result = stat_result

    @staticmethod
    def etag_for(stat_result: os.stat_result) -> str:
        """A weak-enough validator from size and mtime."""
        token = f"{stat_result.st_mtime}-{stat_result.st_size}".encode()
        return '"' + hashlib.md5(token, usedforsecurity=False).hexdigest() + '"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stat_result = self.stat_result
        if stat_result is None:
            try:
                stat_result = await run_in_threadpool(os.stat, self.path)
            except (FileNotFoundError, NotADirectoryError):
                await problem_response(404, "File not found.")(scope, receive, send)
                return
        if not stat.S_ISREG(stat_result.st_mode):
            await problem_response(404, "File not found.")(scope, receive, send)
            return
        size = stat_result.st_size
        etag = self.etag_for(stat_result)
        last_modified = formatdate(stat_result.st_mtime, usegmt=True)
        headers = MutableHeaders(raw=self.raw_headers)
        headers.setdefault("etag", etag)
        headers.setdefault("last-modified", last_modified)
        headers.setdefault("accept-ranges", "bytes")
        request_headers = Headers(raw=scope["headers"])

        method = scope.get("method", "GET")
        if (
            self.status_code == 200
            and method in ("GET", "HEAD")
            and _not_modified(request_headers, etag, stat_result.st_mtime)
        ):
            keep = {
                b"etag",
                b"last-modified",
                b"cache-control",
                b"vary",
                b"expires",
                b"content-location",
            }
            raw = [(k, v) for k, v in self.raw_headers if k in keep]
            await send({"type": "http.response.start", "status": 304, "headers": raw})
            await send({"type": "http.response.body", "body": b""})
            return

        ranges = None
        range_header = request_headers.get("range")
        if (
            range_header
            and self.status_code == 200
            and method in ("GET", "HEAD")
            and _if_range_matches(request_headers, etag, last_modified)
        ):
            ranges = _parse_ranges(range_header, size)
            if ranges == []:
                unsatisfiable = problem_response(
                    416,
                    "None of the requested ranges overlap the file.",
                    headers={"content-range": f"bytes */{size}"},
                )
                await unsatisfiable(scope, receive, send)
                return

        send_body = method != "HEAD"
        if not ranges:
            headers["content-length"] = str(size)
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if send_body:
                await self._send_range(send, 0, size, last=True)
            else:
                await send({"type": "http.response.body", "body": b""})
        elif len(ranges) == 1:
            start, end = ranges[0]
            headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
            headers["content-length"] = str(end - start)
            await send({"type": "http.response.start", "status": 206, "headers": self.raw_headers})
            if send_body:
                await self._send_range(send, start, end, last=True)
            else:
                await send({"type": "http.response.body", "body": b""})
        else:
            boundary = hashlib.md5(etag.encode(), usedforsecurity=False).hexdigest()
            content_type = headers.get("content-type", "application/octet-stream")
            parts = [
                (
                    f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
                ).encode("latin-1")
                for start, end in ranges
            ]
            closing = f"--{boundary}--\r\n".encode("latin-1")
            length = sum(
                len(p) + (end - start) + 2 for p, (start, end) in zip(parts, ranges, strict=True)
            ) + len(closing)
            headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
            headers["content-length"] = str(length)
            await send({"type": "http.response.start", "status": 206, "headers": self.raw_headers})
            if send_body:
                for part, (start, end) in zip(parts, ranges, strict=True):
                    await send({"type": "http.response.body", "body": part, "more_body": True})
                    await self._send_range(send, start, end, last=False)
                    await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
                await send({"type": "http.response.body", "body": closing})
            else:
                await send({"type": "http.response.body", "body": b""})
        if self.background is not None:
            await self.background()

    async def _send_range(self, send: Send, start: int, end: int, *, last: bool) -> None:
        handle = await run_in_threadpool(open, self.path, "rb")
        try:
            await run_in_threadpool(handle.seek, start)
            remaining = end - start
            while remaining > 0:
                chunk = await run_in_threadpool(handle.read, min(self.chunk_size, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send(
                    {
                        "type": "http.response.body",
                        "body": chunk,
                        "more_body": not last or remaining > 0,
                    }
                )
            if last and remaining > 0:  # the file shrank under us
                await send({"type": "http.response.body", "body": b""})
        finally:
            await run_in_threadpool(handle.close)
        if last and end == start:
            await send({"type": "http.response.body", "body": b""})


def _not_modified(headers: Headers, etag: str, mtime: float) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False


def _if_range_matches(headers: Headers, etag: str, last_modified: str) -> bool:
    if_range = headers.get("if-range")
    return if_range is None or if_range in (etag, last_modified)


def _parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """Parse ``bytes=0-99,200-`` into half-open ranges; ``[]`` if unsatisfiable, ``None`` if invalid."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    ranges: list[tuple[int, int]] = []
    for item in spec.split(","):
        first, dash, last = item.strip().partition("-")
        if not dash:
            return None
        try:
            if first:
                start = int(first)
                end = int(last) + 1 if last else size
                if start > end - 1 and last:
                    return None
            else:
                if not last:
                    return None
                start, end = max(size - int(last), 0), size
        except ValueError:
            return None
        if start < 0:
            return None
        if start >= size:
            continue
        ranges.append((start, min(end, size)))
    if not ranges:
        return []
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
