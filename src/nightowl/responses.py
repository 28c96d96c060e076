"""Response classes: each one is an ASGI application that sends itself."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import threading
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Coroutine, Iterable, Mapping
from email.utils import formatdate, parsedate_to_datetime
from mimetypes import guess_type
from typing import Any
from urllib.parse import quote

from pydantic_core import to_json

from nightowl._concurrency import iterate_in_threadpool, run_in_threadpool
from nightowl._types import Receive, Scope, Send
from nightowl.datastructures import Headers, MutableHeaders
from nightowl.exceptions import status_phrase

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "dump_json",
    "problem_response",
    "redirect",
]

BackgroundCall = Callable[[], Awaitable[None]]


def _fallback(value: Any) -> Any:
    # Sets, ORM rows and other objects pydantic cannot serialise directly.
    if isinstance(value, (set, frozenset)):
        return list(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if hasattr(value, "__dict__"):
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dump_json(content: Any) -> bytes:
    """Serialise ``content`` to compact JSON bytes.

    Handles dicts, lists, pydantic models, dataclasses, ``datetime``, ``UUID``,
    ``Decimal``, ``Enum``, sets and plain objects (their public attributes).
    """
    return to_json(content, fallback=_fallback)


class Response:
    """An HTTP response.

    Args:
        content: ``bytes`` or ``str`` (encoded as UTF-8); ``None`` for an empty body.
        status_code: the HTTP status.
        headers: extra headers.
        media_type: the ``Content-Type`` (``charset=utf-8`` is added for text types).
        background: an awaitable callable run after the response is sent.
    """

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundCall | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes."""
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Build the raw header list: given headers, then length and type unless present."""
        if headers:
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            names = {k for k, _ in raw}
        else:
            raw, names = [], set()
        body = getattr(self, "body", None)
        if (
            body is not None
            and b"content-length" not in names
            and not (self.status_code < 200 or self.status_code in (204, 304))
        ):
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        media_type = self.media_type
        if media_type is not None and b"content-type" not in names:
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type += "; charset=" + self.charset
            raw.append((b"content-type", media_type.encode("latin-1")))
        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; changes write through to what is sent."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: int | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Add a ``Set-Cookie`` header. ``expires`` is seconds from now or an HTTP date."""
        parts = [f"{key}={quote(value, safe='')}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if expires is not None:
            if isinstance(expires, int):
                expires = formatdate(time.time() + expires, usegmt=True)
            parts.append(f"Expires={expires}")
        if path is not None:
            parts.append(f"Path={path}")
        if domain is not None:
            parts.append(f"Domain={domain}")
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("samesite must be 'strict', 'lax' or 'none'")
            parts.append(f"SameSite={samesite.capitalize()}")
        self.raw_headers.append((b"set-cookie", "; ".join(parts).encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = "lax",
    ) -> None:
        """Tell the client to forget the cookie ``key``."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    """A ``text/html`` response."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """A ``text/plain`` response."""

    media_type = "text/plain"


class JSONResponse(Response):
    """A JSON response; ``content`` is anything :func:`dump_json` can serialise."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` as JSON."""
        return dump_json(content)


class ProblemResponse(JSONResponse):
    """An RFC 9457 ``application/problem+json`` response."""

    media_type = "application/problem+json"


def problem_response(
    status_code: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    title: str | None = None,
    type: str = "about:blank",
    **extra: Any,
) -> ProblemResponse:
    """An RFC 9457 problem response: ``{"type", "title", "status", "detail", ...extra}``."""
    body: dict[str, Any] = {
        "type": type,
        "title": title or status_phrase(status_code),
        "status": status_code,
    }
    if detail is not None:
        body["detail"] = detail
    body.update(extra)
    return ProblemResponse(body, status_code=status_code, headers=headers)


class RedirectResponse(Response):
    """Redirect to ``url`` (307 by default, which keeps the method and body)."""

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundCall | None = None,
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=headers, background=background)
        self.raw_headers.append(
            (b"location", quote(str(url), safe=":/%#?=@[]!$&'()*+,;~").encode("latin-1"))
        )


def redirect(url: str, status_code: int = 302) -> RedirectResponse:
    """Flask's ``redirect``: a 302 to ``url`` unless another status is given."""
    return RedirectResponse(url, status_code=status_code)


ContentStream = AsyncIterable[Any] | Iterable[Any]


class _LockedIterator:
    """A sync iterator whose ``next()`` and ``close()`` never overlap.

    A cancelled thread-pool hop keeps running ``next()`` in its thread; ``close()``
    waits for it instead of failing with "generator already executing".
    """

    __slots__ = ("_iterator", "_lock")

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._iterator = iter(iterable)
        self._lock = threading.Lock()

    def __iter__(self) -> _LockedIterator:
        return self

    def __next__(self) -> Any:
        with self._lock:
            return next(self._iterator)

    def close(self) -> None:
        with self._lock:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _run_until_disconnect(work: Coroutine[Any, Any, None], receive: Receive) -> bool:
    """Run ``work`` while listening for ``http.disconnect``; ``False`` if the client left first.

    Whichever finishes first cancels the other. Errors raised by ``work`` propagate.
    """
    loop = asyncio.get_running_loop()
    worker = loop.create_task(work)
    listener = loop.create_task(_wait_for_disconnect(receive))
    try:
        await asyncio.wait((worker, listener), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (worker, listener):
            task.cancel()
        # Let both unwind (a cancelled generator runs its ``finally`` here).
        await asyncio.wait((worker, listener))
    if not listener.cancelled():
        listener.exception()  # a failing receive() counts as a disconnect
    if worker.cancelled():
        return False
    worker.result()
    return True


class StreamingResponse(Response):
    """Stream a body from a sync or async iterator of ``bytes``/``str`` chunks.

    Sync iterators are advanced in the thread pool so they never block the event loop.
    When the client disconnects, the iteration stops and the iterator is closed, so a
    generator's ``finally`` block (or ``with`` block) runs.

    ::

        async def numbers():
            for i in range(10):
                yield f"{i}\\n"

        @app.get("/numbers")
        def stream():
            return StreamingResponse(numbers(), media_type="text/plain")
    """

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundCall | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self._sync_iterator: _LockedIterator | None = None
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[Any] = content
        else:
            self._sync_iterator = _LockedIterator(content)
            self.body_iterator = iterate_in_threadpool(self._sync_iterator)
        self.init_headers(headers)

    def encode_chunk(self, chunk: Any) -> bytes:
        """Turn one item of the iterator into body bytes (``str`` is encoded)."""
        if isinstance(chunk, bytes):
            return chunk
        if isinstance(chunk, memoryview):
            return bytes(chunk)
        return str(chunk).encode(self.charset)

    async def stream_body(self, send: Send) -> None:
        """Send every chunk of the iterator (without the final empty message)."""
        encode = self.encode_chunk
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": encode(chunk), "more_body": True})

    async def aclose(self) -> None:
        """Close the iterator so a generator's cleanup runs (called after every response)."""
        aclose = getattr(self.body_iterator, "aclose", None)
        if aclose is not None:
            await aclose()
        if self._sync_iterator is not None:
            await run_in_threadpool(self._sync_iterator.close)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        try:
            finished = scope.get("method") == "HEAD" or await _run_until_disconnect(
                self.stream_body(send), receive
            )
            if finished:
                await send({"type": "http.response.body", "body": b""})
        finally:
            await self.aclose()
        if self.background is not None:
            await self.background()


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
