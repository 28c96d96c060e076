"""Gzip compression of response bodies for clients that accept it."""

from __future__ import annotations

import zlib

from nightowl.datastructures import Headers, MutableHeaders
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware._headers import add_vary, response_headers
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["GZipMiddleware", "accepts_gzip", "is_compressible"]

_COMPRESSIBLE = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/x-ndjson",
        "application/graphql",
        "application/wasm",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "font/ttf",
        "font/otf",
    }
)
# Server-sent events must reach the client event by event; a compressor would hold them back.
_NEVER = frozenset({"text/event-stream"})
_NO_BODY_STATUSES = frozenset({204, 205, 304})
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def is_compressible(content_type: str | None) -> bool:
    """Whether a body of this ``Content-Type`` shrinks under gzip.

    Text, JSON, JavaScript, XML, SVG and their ``+json``/``+xml`` relatives do; images,
    video, archives and other already-compressed formats don't. ``text/event-stream``
    never is, so events are not held back.
    """
    if not content_type:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in _NEVER:
        return False
    return (
        media_type.startswith("text/")
        or media_type in _COMPRESSIBLE
        or media_type.endswith(("+json", "+xml"))
    )


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value lets the server send gzip.

    ``gzip`` (or ``x-gzip``, or ``*``) must be listed without ``q=0``.
    """
    if not accept_encoding:
        return False
    wildcard: bool | None = None
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding in ("gzip", "x-gzip"):
            return quality > 0
        if coding == "*":
            wildcard = quality > 0
    return bool(wildcard)


class GZipMiddleware:
    """Compress response bodies with gzip when the client accepts it.

    ::

        app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)

    A response is compressed when the request's ``Accept-Encoding`` allows gzip, the
    response has no ``Content-Encoding`` yet, its ``Content-Type`` is compressible
    (see :func:`is_compressible`), it is not a partial (206) or body-less response, it
    does not say ``Cache-Control: no-transform``, and its body is at least
    ``minimum_size`` bytes. Streamed bodies are compressed chunk by chunk, each chunk
    flushed so the client sees it at once, and lose their ``Content-Length``. Compressed
    responses get ``Vary: Accept-Encoding`` and a weak ``ETag``.

    Args:
        app: the ASGI app to wrap.
        minimum_size: bodies shorter than this many bytes are sent as they are.
        compresslevel: 1 (fastest) to 9 (smallest).

    Raises:
        ImproperlyConfigured: for a negative ``minimum_size`` or a level outside 1-9.
    """

    __slots__ = ("app", "compresslevel", "minimum_size")

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        if minimum_size < 0:
            raise ImproperlyConfigured("GZipMiddleware(minimum_size=...) must not be negative.")
        if not 1 <= compresslevel <= 9:
            raise ImproperlyConfigured("GZipMiddleware(compresslevel=...) must be from 1 to 9.")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "HEAD":
            await self.app(scope, receive, send)
            return
        if not accepts_gzip(Headers(scope=scope).get("accept-encoding")):
            await self.app(scope, receive, send)
            return
        responder = _GZipResponder(send, self.minimum_size, self.compresslevel)
        await self.app(scope, receive, responder.send)


class _GZipResponder:
    """Decides from the first body message whether to compress, then compresses the rest."""

    __slots__ = ("compressor", "level", "minimum_size", "passthrough", "send_next", "start")

    def __init__(self, send: Send, minimum_size: int, level: int) -> None:
        self.send_next = send
        self.minimum_size = minimum_size
        self.level = level
        self.start: Message | None = None
        self.passthrough = False
        self.compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._eligible(message):
                self.start = message  # held until the first body message shows the size
            else:
                self.passthrough = True
                await self.send_next(message)
            return
        if kind != "http.response.body" or self.passthrough:
            await self.send_next(message)
            return
        if self.compressor is None:
            await self._first_body(message)
        else:
            await self._next_body(self.compressor, message)

    def _eligible(self, start: Message) -> bool:
        headers = Headers(raw=list(start.get("headers", ())))
        if start["status"] in _NO_BODY_STATUSES or start["status"] == 206 or start["status"] < 200:
            return False
        if "content-encoding" in headers or "content-range" in headers:
            return False
        if "no-transform" in headers.get("cache-control", "").lower():
            return False
        if not is_compressible(headers.get("content-type")):
            return False
        length = headers.get("content-length")
        return not (length is not None and length.isdigit() and int(length) < self.minimum_size)

    async def _first_body(self, message: Message) -> None:
        start = self.start
        if start is None:
            raise RuntimeError("http.response.body sent before http.response.start")
        self.start = None
        body = bytes(message.get("body", b""))
        more_body = bool(message.get("more_body", False))
        if not more_body and len(body) < self.minimum_size:
            self.passthrough = True
            await self.send_next(start)
            await self.send_next(message)
            return

        self.compressor = zlib.compressobj(self.level, zlib.DEFLATED, _GZIP_WBITS)
        headers = response_headers(start)
        headers["content-encoding"] = "gzip"
        add_vary(headers, "Accept-Encoding")
        _weaken_etag(headers)
        # Byte ranges would address the compressed bytes, which no later response repeats.
        del headers["accept-ranges"]
        if more_body:
            del headers["content-length"]
            data = self.compressor.compress(body) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = self.compressor.compress(body) + self.compressor.flush(zlib.Z_FINISH)
            headers["content-length"] = str(len(data))
        await self.send_next(start)
        await self.send_next({"type": "http.response.body", "body": data, "more_body": more_body})

    async def _next_body(self, compressor: zlib._Compress, message: Message) -> None:
        body = bytes(message.get("body", b""))
        more_body = bool(message.get("more_body", False))
        if more_body:
            if not body:
                return  # nothing to flush; an empty sync flush would still cost bytes
            data = compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
        else:
            data = compressor.compress(body) + compressor.flush(zlib.Z_FINISH)
        await self.send_next({"type": "http.response.body", "body": data, "more_body": more_body})


def _weaken_etag(headers: MutableHeaders) -> None:
    # The compressed bytes differ from the identity ones, so a strong validator would lie.
    etag = headers.get("etag")
    if etag and not etag.startswith("W/"):
        headers["etag"] = "W/" + etag
