"""``Response`` and the responses with a body known up front (JSON, HTML, text, redirects)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from nightowl._logging import REQUEST_ID
from nightowl._pydantic_ext import to_json
from nightowl.datastructures import MutableHeaders, encode_header
from nightowl.exceptions import status_phrase
from nightowl.types import Receive, Scope, Send

__all__ = [
    "BackgroundCall",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "ProblemResponse",
    "RedirectResponse",
    "Response",
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
            raw = [encode_header(k, v) for k, v in headers.items()]
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
                from email.utils import formatdate  # here: most apps never need it

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
        self.raw_headers.append(encode_header("set-cookie", "; ".join(parts)))

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
    request_id = REQUEST_ID.get()
    if request_id != "-":
        body.setdefault("request_id", request_id)
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
