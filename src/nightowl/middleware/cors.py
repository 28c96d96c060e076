"""Cross-Origin Resource Sharing: let browsers on other origins call the API."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from nightowl.datastructures import Headers, MutableHeaders
from nightowl.exceptions import ImproperlyConfigured
from nightowl.middleware._headers import add_vary, response_headers
from nightowl.problems import error_response
from nightowl.responses import Response
from nightowl.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

#: Request headers a browser may send cross-origin without the server listing them.
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _is_origin(value: str) -> bool:
    if value in ("*", "null"):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and value == f"{parts.scheme}://{parts.netloc}"


def _names(value: Sequence[str], option: str) -> list[str]:
    # A bare string is a sequence of characters: "GET" would allow "G", "E" and "T".
    if isinstance(value, str):
        raise ImproperlyConfigured(f"CORSMiddleware({option}=...) takes a list, not a string.")
    return list(value)


class CORSMiddleware:
    """Answer CORS preflight requests and add CORS headers to responses.

    ::

        app.add_middleware(
            CORSMiddleware,
            allow_origins=["https://app.example"],
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization"],
            allow_credentials=True,
        )

    A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is
    answered here, without reaching the app: 200 with the ``Access-Control-Allow-*``
    headers, or a 400 problem when the origin, method or headers are not allowed. Other
    requests run the app and, when their ``Origin`` is allowed, get
    ``Access-Control-Allow-Origin`` (and ``-Credentials``, ``-Expose-Headers``).
    Responses that depend on the origin carry ``Vary: Origin`` so caches keep them apart.

    Args:
        app: the ASGI app to wrap.
        allow_origins: origins allowed to call, like ``"https://app.example"``
            (scheme, host and port, no path); ``"*"`` allows every origin.
        allow_origin_regex: a regular expression an origin may fully match instead,
            like ``r"https://.*\\.example\\.com"``.
        allow_methods: methods a preflight may ask for; ``"*"`` allows any.
        allow_headers: request headers a preflight may ask for, besides the CORS-safelisted
            ``Accept``, ``Accept-Language``, ``Content-Language`` and ``Content-Type``;
            ``"*"`` allows any.
        allow_credentials: let the browser send cookies and ``Authorization``. The allowed
            origin is then echoed, never ``*``, since browsers reject ``*`` with credentials.
        expose_headers: response headers the calling script may read.
        max_age: seconds a browser may cache a preflight answer.

    Raises:
        ImproperlyConfigured: for a string where a list belongs, an origin with a path,
            a bad regular expression or a negative ``max_age``.
    """

    __slots__ = (
        "allow_all_headers",
        "allow_all_methods",
        "allow_all_origins",
        "allow_credentials",
        "allow_headers",
        "allow_methods",
        "allow_origin_regex",
        "allow_origins",
        "app",
        "expose_headers",
        "max_age",
    )

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        origins = _names(allow_origins, "allow_origins")
        methods = _names(allow_methods, "allow_methods")
        headers = _names(allow_headers, "allow_headers")
        for origin in origins:
            if not _is_origin(origin):
                raise ImproperlyConfigured(
                    f"CORS origin {origin!r} must be scheme://host[:port], without a path."
                )
        if max_age < 0:
            raise ImproperlyConfigured("CORSMiddleware(max_age=...) must not be negative.")
        try:
            regex = re.compile(allow_origin_regex) if allow_origin_regex is not None else None
        except re.error as exc:
            raise ImproperlyConfigured(f"CORS allow_origin_regex is invalid: {exc}") from None

        self.app = app
        self.allow_all_origins = "*" in origins
        self.allow_origins = frozenset(origin.lower() for origin in origins)
        self.allow_origin_regex = regex
        self.allow_all_methods = "*" in methods
        self.allow_methods = (
            ALL_METHODS
            if self.allow_all_methods
            else tuple(dict.fromkeys(method.upper() for method in methods))
        )
        self.allow_all_headers = "*" in headers
        self.allow_headers = tuple(
            sorted(SAFELISTED_HEADERS | {header.lower() for header in headers if header != "*"})
        )
        self.allow_credentials = allow_credentials
        self.expose_headers = ", ".join(expose_headers)
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            if self._varies():
                await self.app(scope, receive, self._vary_only(send))
            else:
                await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(scope, origin, headers)(scope, receive, send)
            return
        await self.app(scope, receive, self._simple(origin, send))

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether requests from ``origin`` may read responses."""
        if self.allow_all_origins:
            return True
        if origin.lower() in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and bool(
            self.allow_origin_regex.fullmatch(origin)
        )

    def _varies(self) -> bool:
        # With a plain "*" every origin gets the same answer; otherwise it depends on Origin.
        return not self.allow_all_origins or self.allow_credentials

    def _allow_origin_value(self, origin: str) -> str:
        return "*" if self.allow_all_origins and not self.allow_credentials else origin

    def _preflight(self, scope: Scope, origin: str, headers: Headers) -> Response:
        method = headers["access-control-request-method"].strip().upper()
        requested = [
            name.strip().lower()
            for name in headers.get("access-control-request-headers", "").split(",")
            if name.strip()
        ]
        problems: list[str] = []
        if not self.is_allowed_origin(origin):
            problems.append(f"the origin {origin} is not in allow_origins")
        if not self.allow_all_methods and method not in self.allow_methods:
            problems.append(f"the method {method} is not in allow_methods")
        refused = [name for name in requested if name not in self.allow_headers]
        if not self.allow_all_headers and refused:
            noun = "header" if len(refused) == 1 else "headers"
            verb = "is" if len(refused) == 1 else "are"
            problems.append(f"the {noun} {', '.join(refused)} {verb} not in allow_headers")
        vary = {"Vary": "Origin"} if self._varies() else None
        if problems:
            listed = (
                ", ".join(problems[:-1]) + (" and " if len(problems) > 1 else "") + problems[-1]
            )
            return error_response(
                scope,
                400,
                f"The browser may not make this cross-origin request: {listed} "
                "(options of CORSMiddleware).",
                headers=vary,
            )

        answer = {"Access-Control-Allow-Origin": self._allow_origin_value(origin)}
        if self.allow_all_methods:
            # Echo the method: with credentials a literal "*" means the method named "*".
            answer["Access-Control-Allow-Methods"] = method
        else:
            answer["Access-Control-Allow-Methods"] = ", ".join(self.allow_methods)
        if self.allow_all_headers:
            if requested:
                answer["Access-Control-Allow-Headers"] = ", ".join(requested)
        else:
            answer["Access-Control-Allow-Headers"] = ", ".join(self.allow_headers)
        answer["Access-Control-Max-Age"] = str(self.max_age)
        if self.allow_credentials:
            answer["Access-Control-Allow-Credentials"] = "true"
        if vary:
            answer.update(vary)
        return Response(status_code=200, headers=answer)

    def _vary_only(self, send: Send) -> Send:
        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_vary(response_headers(message), "Origin")
            await send(message)

        return send_with_vary

    def _simple(self, origin: str, send: Send) -> Send:
        allowed = self.is_allowed_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = response_headers(message)
                if allowed:
                    self._add_cors_headers(headers, origin)
                if self._varies():
                    add_vary(headers, "Origin")
            await send(message)

        return send_with_cors

    def _add_cors_headers(self, headers: MutableHeaders, origin: str) -> None:
        headers["access-control-allow-origin"] = self._allow_origin_value(origin)
        if self.allow_credentials:
            headers["access-control-allow-credentials"] = "true"
        if self.expose_headers:
            headers["access-control-expose-headers"] = self.expose_headers
