"""``FileResponse``: a file from disk, with conditional and range requests.

The response is sent one of three ways, each its own method: the whole file (200), one
range (206 with ``Content-Range``) or several ranges (206 ``multipart/byteranges``). Every
way reads through :class:`_FileReader`, which opens the file once per response and fills
each thread hop with up to ``chunk_size`` bytes, however many ranges that takes.
"""

from __future__ import annotations

import logging
import os
import stat
from collections import deque
from collections.abc import Mapping
from typing import BinaryIO
from urllib.parse import quote

from nightowl._concurrency import run_in_threadpool
from nightowl.datastructures import Headers, MutableHeaders
from nightowl.responses._base import BackgroundCall, Response, problem_response
from nightowl.types import Receive, Scope, Send

logger = logging.getLogger("nightowl")

__all__ = ["FileResponse"]

#: What a body is read from: literal bytes (multipart headers) and half-open file ranges.
_Piece = bytes | tuple[int, int]

#: The headers a 304 keeps (RFC 9110 15.4.5): the validators and what caching needs.
_NOT_MODIFIED_HEADERS = frozenset(
    (b"etag", b"last-modified", b"cache-control", b"vary", b"expires", b"content-location")
)


class FileResponse(Response):
    """Send a file from disk, streamed in chunks.

    Answers ``Range`` requests with 206 (or 416 when no range overlaps the file), sets
    ``ETag`` and ``Last-Modified``, and answers 304 to a matching ``If-None-Match`` or
    ``If-Modified-Since``.

    Overlapping and adjacent ranges are merged, and parts are sent in file order. A
    ``Range`` header naming more than ``max_ranges`` ranges (100) is ignored and the whole
    file is sent with 200. RFC 9110 lets a server ignore ``Range`` (14.2) or reject it
    with 416 (15.5.17) when it asks for many small ranges; ignoring it is what Starlette
    (100 ranges), Apache (``MaxRanges`` 200) and nginx (``max_ranges``) do, a client that
    meant it still gets the content it asked for, and the answer is never larger than the
    file, so a long list of ranges buys an attacker nothing a plain ``GET`` would not.
    Subclass and set ``max_ranges`` to change the limit.
    """

    chunk_size = 64 * 1024
    max_ranges = 100

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
        if not media_type:
            from mimetypes import guess_type

            media_type = guess_type(filename or self.path)[0] or "application/octet-stream"
        self.media_type = media_type
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
        return '"' + _md5_hex(f"{stat_result.st_mtime}-{stat_result.st_size}") + '"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stat_result = await self._stat()
        if stat_result is None:
            # The client sees a 404; whoever wrote FileResponse(path) needs to know which path.
            logger.warning(
                "FileResponse: %s is missing or not a file (%s %s answered 404).",
                os.path.abspath(self.path),
                scope.get("method", "GET"),
                scope.get("path", ""),
            )
            await problem_response(404, "File not found.")(scope, receive, send)
            return
        size = stat_result.st_size
        etag = self.etag_for(stat_result)
        last_modified = _http_date(stat_result.st_mtime)
        # A copy, so that the response object can be sent again unchanged.
        headers = MutableHeaders(raw=list(self.raw_headers))
        headers.setdefault("etag", etag)
        headers.setdefault("last-modified", last_modified)
        headers.setdefault("accept-ranges", "bytes")
        request_headers = Headers(raw=scope["headers"])
        method = scope.get("method", "GET")
        # Validators and ranges apply only when the file itself answers a GET or HEAD.
        if self.status_code == 200 and method in ("GET", "HEAD"):
            if _not_modified(request_headers, etag, stat_result.st_mtime):
                raw = [(k, v) for k, v in headers.raw if k in _NOT_MODIFIED_HEADERS]
                await send({"type": "http.response.start", "status": 304, "headers": raw})
                await send({"type": "http.response.body", "body": b""})
                return
            ranges = self._requested_ranges(request_headers, etag, last_modified, size)
        else:
            ranges = None
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
            await self._send_whole(send, headers, size, send_body)
        elif len(ranges) == 1:
            await self._send_single_range(send, headers, ranges[0], size, send_body)
        else:
            await self._send_multiple_ranges(send, headers, ranges, size, send_body)
        if self.background is not None:
            await self.background()

    async def _stat(self) -> os.stat_result | None:
        """The file's ``stat``, or ``None`` when it is missing or not a regular file."""
        stat_result = self.stat_result
        if stat_result is None:
            try:
                stat_result = await run_in_threadpool(os.stat, self.path)
            except (FileNotFoundError, NotADirectoryError):
                return None
        return stat_result if stat.S_ISREG(stat_result.st_mode) else None

    def _requested_ranges(
        self, request_headers: Headers, etag: str, last_modified: str, size: int
    ) -> list[tuple[int, int]] | None:
        """The ranges to send: ``None`` for the whole file, ``[]`` when none is satisfiable."""
        range_header = request_headers.get("range")
        if not range_header or not _if_range_matches(request_headers, etag, last_modified):
            return None
        if range_header.count(",") >= self.max_ranges:
            return None
        return _parse_ranges(range_header, size)

    async def _send_whole(
        self, send: Send, headers: MutableHeaders, size: int, send_body: bool
    ) -> None:
        headers["content-length"] = str(size)
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": headers.raw}
        )
        await self._send_pieces(send, [(0, size)] if send_body and size else [])

    async def _send_single_range(
        self,
        send: Send,
        headers: MutableHeaders,
        byte_range: tuple[int, int],
        size: int,
        send_body: bool,
    ) -> None:
        start, end = byte_range
        headers["content-range"] = f"bytes {start}-{end - 1}/{size}"
        headers["content-length"] = str(end - start)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        await self._send_pieces(send, [byte_range] if send_body else [])

    async def _send_multiple_ranges(
        self,
        send: Send,
        headers: MutableHeaders,
        ranges: list[tuple[int, int]],
        size: int,
        send_body: bool,
    ) -> None:
        # The boundary only has to be absent from the parts' data; a hash of the
        # validator is as unlikely to appear in it as random bytes, and is stable.
        boundary = _md5_hex(headers["etag"])
        content_type = headers.get("content-type", "application/octet-stream")
        pieces: list[_Piece] = []
        for start, end in ranges:
            part_head = (
                f"--{boundary}\r\nContent-Type: {content_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
            )
            pieces += [part_head.encode("latin-1"), (start, end), b"\r\n"]
        pieces.append(f"--{boundary}--\r\n".encode("latin-1"))
        length = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in pieces)
        headers["content-type"] = f"multipart/byteranges; boundary={boundary}"
        headers["content-length"] = str(length)
        await send({"type": "http.response.start", "status": 206, "headers": headers.raw})
        await self._send_pieces(send, pieces if send_body else [])

    async def _send_pieces(self, send: Send, pieces: list[_Piece]) -> None:
        """Send ``pieces`` as the body, one thread hop per chunk; an empty list sends none."""
        if not pieces:
            await send({"type": "http.response.body", "body": b""})
            return
        reader = _FileReader(self.path, pieces, self.chunk_size)
        try:
            while not reader.done:
                chunk = await run_in_threadpool(reader.read)
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": not reader.done}
                )
        finally:
            reader.close()  # already closed by the last read, unless sending failed


class _FileReader:
    """Reads a body made of file ranges and literal bytes through one open handle.

    Each :meth:`read` runs in a worker thread and returns up to ``chunk_size`` bytes, taken
    from as many pieces as fit: a hundred one-byte ranges cost one hop, not a hundred
    opens and seeks. The file is opened by the first read and closed by the last.
    """

    __slots__ = ("_chunk_size", "_handle", "_path", "_pieces", "done")

    def __init__(self, path: str, pieces: list[_Piece], chunk_size: int) -> None:
        self._path = path
        self._pieces = deque(pieces)
        self._chunk_size = chunk_size
        self._handle: BinaryIO | None = None
        self.done = not pieces

    def read(self) -> bytes:
        """The next chunk of the body; sets ``done`` after the last one."""
        try:
            return self._fill()
        finally:
            if not self._pieces:
                self.close()

    def _fill(self) -> bytes:
        if self._handle is None:
            self._handle = open(self._path, "rb")  # noqa: SIM115 - closed by close()
        buffer = bytearray()
        pieces = self._pieces
        while pieces and len(buffer) < self._chunk_size:
            piece = pieces.popleft()
            if isinstance(piece, bytes):
                buffer += piece
                continue
            start, end = piece
            self._handle.seek(start)
            data = self._handle.read(min(end - start, self._chunk_size - len(buffer)))
            if not data:
                # The file shrank under us: end the body short rather than pad it; the
                # server sees the body fall short of Content-Length and closes the connection.
                pieces.clear()
                break
            buffer += data
            if start + len(data) < end:
                pieces.appendleft((start + len(data), end))
        return bytes(buffer)

    def close(self) -> None:
        """Close the file (if open); no more chunks follow."""
        self.done = True
        self._pieces.clear()
        if self._handle is not None:
            self._handle.close()
            self._handle = None


# mimetypes, hashlib and email.utils are imported where a file is sent, so that an app
# that sends none does not load them.


def _http_date(timestamp: float) -> str:
    from email.utils import formatdate

    return formatdate(timestamp, usegmt=True)


def _md5_hex(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _not_modified(headers: Headers, etag: str, mtime: float) -> bool:
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        from email.utils import parsedate_to_datetime

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
    """Parse ``bytes=0-99,200-`` into sorted, merged half-open ranges.

    ``[]`` if none is satisfiable, ``None`` if the header is invalid (then it is ignored).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return None
    ranges: list[tuple[int, int]] = []
    for item in spec.split(","):
        parsed = _parse_range(item, size)
        if parsed is None:
            return None
        if parsed[0] < size:
            ranges.append(parsed)
    return _merge(ranges)


def _parse_range(item: str, size: int) -> tuple[int, int] | None:
    """One ``first-last``, ``first-`` or ``-suffix`` as a half-open range; ``None`` if invalid.

    The end is clamped to ``size``; a start at or past ``size`` is returned as is (unsatisfiable).
    """
    first, dash, last = item.strip().partition("-")
    if not dash:
        return None
    try:
        if first:
            start = int(first)
            end = int(last) + 1 if last else size
            if last and start > end - 1:
                return None
        elif last:
            start, end = max(size - int(last), 0), size
        else:
            return None
    except ValueError:
        return None
    if start < 0:
        return None
    return start, min(end, size)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort ``ranges`` and merge the ones that overlap or touch (RFC 9110 14.1.1 allows it)."""
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
