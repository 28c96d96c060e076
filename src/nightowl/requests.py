"""The incoming connection: a thin, lazy view over the ASGI scope and receive channel.

:class:`HTTPConnection` holds what requests and WebSockets share; :class:`Request` adds
the method and the body; :class:`~nightowl.websockets.WebSocket` adds messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NamedTuple

from nightowl._pydantic_ext import from_json
from nightowl.datastructures import URL, FormData, Headers, QueryParams, State, parse_cookie_header
from nightowl.exceptions import HTTPException
from nightowl.types import MISSING, Receive, Scope

__all__ = ["Address", "ClientDisconnect", "HTTPConnection", "Request"]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024


class ClientDisconnect(Exception):
    """The client went away before sending the whole body."""


async def _empty_receive() -> Any:
    return {"type": "http.disconnect"}


class Address(NamedTuple):
    """Where a client connects from: ``request.client.host``, ``request.client.port``."""

    host: str
    port: int


class HTTPConnection:
    """What an HTTP request and a WebSocket have in common: the URL, headers, cookies,
    query and path parameters, the session and per-connection state.

    Everything is parsed lazily, on first access, and cached: a handler that never
    looks at cookies never pays for parsing them. A parameter annotated
    ``HTTPConnection`` receives the request (or the WebSocket) itself.
    """

    __slots__ = ("_cookies", "_headers", "_query", "_state", "path_params", "receive", "scope")

    def __init__(
        self,
        scope: Scope,
        receive: Receive = _empty_receive,
        path_params: dict[str, Any] | None = None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.path_params: dict[str, Any] = path_params if path_params is not None else {}
        self._query: QueryParams | None = None
        self._headers: Headers | None = None
        self._cookies: dict[str, str] | None = None
        self._state: State | None = None

    @property
    def path(self) -> str:
        """The decoded path, without the query string."""
        path: str = self.scope["path"]
        return path

    @property
    def url(self) -> URL:
        """The full URL the client asked for."""
        return URL(scope=self.scope)

    @property
    def base_url(self) -> URL:
        """The URL of the application root (scheme, host, root path)."""
        url = self.url
        return url.replace(path=self.scope.get("root_path", "") + "/", query="")

    @property
    def query_params(self) -> QueryParams:
        """The parsed query string."""
        if self._query is None:
            self._query = QueryParams(self.scope.get("query_string", b""))
        return self._query

    @property
    def headers(self) -> Headers:
        """The request headers, case-insensitive."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies the client sent."""
        if self._cookies is None:
            self._cookies = parse_cookie_header(self.headers.get("cookie"))
        return self._cookies

    @property
    def session(self) -> Any:
        """The browser's session, a dict kept between requests (needs ``App(sessions=True)``).

        It is a :class:`nightowl.sessions.HTTPSession`; the sessions battery puts it there.
        """
        try:
            return self.scope["session"]
        except KeyError:
            raise RuntimeError(
                "request.session needs sessions turned on: App(sessions=True) (or "
                "app.add_middleware(SessionMiddleware, ...) from nightowl.sessions)."
            ) from None

    @property
    def client(self) -> Address | None:
        """The client's ``Address`` (``.host``, ``.port``), when the server knows it."""
        client = self.scope.get("client")
        return Address(client[0], client[1]) if client else None

    @property
    def request_id(self) -> str | None:
        """The request's id (see ``App(request_id_header=...)``): the client's well-formed
        ``X-Request-ID``, or a new random one; ``None`` when request ids are off."""
        request_id: str | None = self.scope.get("request_id")
        return request_id

    @property
    def app(self) -> Any:
        """The nightowl application serving this connection (a :class:`nightowl.App`)."""
        return self.scope["app"]

    @property
    def state(self) -> State:
        """Per-connection scratch space for middleware and dependencies."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in, under the
        app's root path (``App(root_path=...)``, a proxy's or a mount's prefix)."""
        path: str = self.app.url_path_for(name, **params)
        root_path: str = self.scope.get("root_path", "")
        return root_path + path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path}>"


class Request(HTTPConnection):
    """An HTTP request: an :class:`HTTPConnection` with a method and a body."""

    __slots__ = (
        "_after_handler",
        "_before_response",
        "_body",
        "_form",
        "_json",
        "_pending",
        "_stream_consumed",
        "max_body_size",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive = _empty_receive,
        path_params: dict[str, Any] | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        super().__init__(scope, receive, path_params)
        self.max_body_size = max_body_size
        self._body: bytes | None = None
        self._json: Any = MISSING
        self._form: FormData | None = None
        self._stream_consumed = False
        self._pending: Any = None
        self._after_handler: list[Callable[[Any], Awaitable[None]]] | None = None
        self._before_response: list[Callable[[Any], Awaitable[None]]] | None = None

    @property
    def method(self) -> str:
        """``GET``, ``POST``..."""
        method: str = self.scope["method"]
        return method

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters."""
        for key, value in self.scope["headers"]:
            if key == b"content-type":
                media_type: str = value.decode("latin-1").partition(";")[0].strip().lower()
                return media_type
        return ""

    def accepts(self, media_type: str) -> bool:
        """Whether the ``Accept`` header takes ``media_type``: ``request.accepts("text/html")``.

        Quality values count (``q=0`` refuses); without the header, anything is accepted.
        To choose between several types, see :mod:`nightowl.negotiation`.
        """
        from nightowl._accept import parse_accept, quality

        ranges = parse_accept(self.headers.get("accept"))
        return not ranges or quality(media_type, ranges)[0] > 0

    # -- the body -----------------------------------------------------------------------------
    async def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as it arrives, enforcing ``max_body_size``."""
        if self._body is not None:
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("The request body was already read as a stream.")
        self._stream_consumed = True
        limit = self.max_body_size
        for key, value in self.scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise HTTPException(400, "Invalid Content-Length header.") from None
                if declared > limit:
                    raise HTTPException(413, f"The request body exceeds {limit} bytes.")
                break
        received = 0
        while True:
            if self._pending is not None:
                message, self._pending = self._pending, None
            else:
                message = await self.receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise HTTPException(413, f"The request body exceeds {limit} bytes.")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect()

    async def body(self) -> bytes:
        """The whole body as bytes (at most ``max_body_size``; larger gets a 413)."""
        if self._body is not None:
            return self._body
        if self._stream_consumed:
            raise RuntimeError("The request body was already read as a stream.")
        # Fast path: small bodies arrive whole, in one message.
        if not self._has_large_content_length():
            message = await self.receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body: bytes = message.get("body", b"")
                if len(body) > self.max_body_size:
                    raise HTTPException(
                        413, f"The request body exceeds {self.max_body_size} bytes."
                    )
                self._stream_consumed = True
                self._body = body
                return body
            self._pending = message
        chunks = [chunk async for chunk in self.stream()]
        self._body = b"".join(chunks)
        return self._body

    def _has_large_content_length(self) -> bool:
        for key, value in self.scope["headers"]:
            if key == b"content-length":
                return len(value) > 5  # over 99,999 bytes: let stream() check it before reading
        return False

    async def json(self) -> Any:
        """The body parsed as JSON; malformed JSON gets a 400 problem."""
        if self._json is MISSING:
            body = await self.body()
            try:
                self._json = from_json(body)
            except ValueError as exc:
                raise HTTPException(400, f"Malformed JSON body: {exc}") from None
        return self._json

    async def form(
        self, *, max_files: int = 1000, max_fields: int = 1000, max_field_size: int | None = None
    ) -> FormData:
        """The body parsed as ``application/x-www-form-urlencoded`` or ``multipart/form-data``.

        Past ``max_files`` files, ``max_fields`` fields, or a field (not a file) over
        ``max_field_size`` bytes (the app's ``max_field_size``, 1 MiB, by default): 413.
        """
        if self._form is None:
            from nightowl._multipart import parse_form

            self._form = await parse_form(
                self, max_files=max_files, max_fields=max_fields, max_field_size=max_field_size
            )
        return self._form

    async def is_disconnected(self) -> bool:
        """True once the client has gone away (checked without blocking)."""
        import asyncio

        try:
            message = await asyncio.wait_for(self.receive(), timeout=0.0001)
        except TimeoutError:
            return False
        return bool(message.get("type") == "http.disconnect")

    def after_handler(self, hook: Callable[[Any], Awaitable[None]]) -> None:
        """Await ``hook(result)`` when the handler returns, before its result is rendered.

        For work the response body depends on, such as flushing a database session so
        that new rows have their ids. It is not called when the handler raises; if the
        hook raises, the client gets the error response instead. Hooks run in the order
        they were added.
        """
        if self._after_handler is None:
            self._after_handler = []
        self._after_handler.append(hook)

    async def run_after_handler(self, result: Any) -> None:
        """Run the hooks added with :meth:`after_handler` (the framework calls this)."""
        hooks, self._after_handler = self._after_handler, None
        for hook in hooks or ():
            await hook(result)

    def before_response(self, hook: Callable[[Any], Awaitable[None]]) -> None:
        """Await ``hook(response)`` once the response is built, before it is sent.

        For work that must succeed before the client hears "done" (committing a
        transaction): if the hook raises, the client gets the error response instead.
        Hooks run in the order they were added.
        """
        if self._before_response is None:
            self._before_response = []
        self._before_response.append(hook)

    async def run_before_response(self, response: Any) -> None:
        """Run the hooks added with :meth:`before_response` (the framework calls this)."""
        hooks, self._before_response = self._before_response, None
        for hook in hooks or ():
            await hook(response)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"
