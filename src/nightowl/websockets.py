"""WebSocket connections, and the rules a handshake and its messages must follow.

Before a handler runs, the app checks the handshake's ``Origin`` (:func:`origin_allowed`):
a page of another site must not open a connection that carries the user's cookies
(cross-site WebSocket hijacking), so such a handshake gets 403. Messages larger than
:attr:`WebSocketConfig.max_message_size` close the connection with 1009; a message that
``receive_model`` cannot validate closes it with 1007 (or is answered with an error
frame); a client silent for :attr:`WebSocketConfig.idle_timeout` is closed with 1001.

A handler may declare its messages' type in its signature instead of reading them:
a parameter annotated ``AsyncIterator[Model]`` gets the connection's messages, each
validated as ``Model`` (see :func:`message_reader`).
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

from nightowl._pydantic_ext import from_json
from nightowl._shutdown import stopping
from nightowl.exceptions import HTTPException, WebSocketDisconnect, WebSocketException
from nightowl.requests import HTTPConnection
from nightowl.responses import dump_json, problem_response
from nightowl.types import Message, Receive, Scope, Send

__all__ = [
    "WebSocket",
    "WebSocketConfig",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
    "message_reader",
    "origin_allowed",
]

T = TypeVar("T")

#: Close codes (RFC 6455): going away, invalid payload data, policy violation, too big.
CLOSE_GOING_AWAY = 1001
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


@dataclass(frozen=True, slots=True)
class WebSocketConfig:
    """How an app's WebSockets are guarded: ``App(websocket_config=WebSocketConfig(...))``.

    Args:
        allowed_origins: origins allowed besides the app's own
            (``"https://app.example.com"``, ``"https://*.example.com"``, or ``"*"`` for any).
        check_origin: when the handshake's ``Origin`` is checked. ``"cookies"`` (default):
            when the handshake carries cookies, since a page of another site could then
            act with the user's session; ``"always"``; ``"never"``. A handshake without an
            ``Origin`` header (no browser sent it) always passes.
        max_message_size: the largest message accepted, in bytes; a larger one closes the
            connection with 1009. ``None``: the server's limit only (uvicorn's is 16 MiB).
        idle_timeout: seconds a ``receive`` waits for the client; then the connection is
            closed with 1001. ``None`` waits forever. Pings are the server's: uvicorn
            pings every 20 s and drops a client that does not answer within 20 s
            (``ws_ping_interval`` and ``ws_ping_timeout``).
        invalid_message: what ``receive_model`` does with a message that does not
            validate: ``"close"`` (with 1007) or ``"error"`` (send
            ``{"type": "error", "errors": [...]}`` and wait for the next message).
    """

    allowed_origins: Sequence[str] = ()
    check_origin: Literal["cookies", "always", "never"] = "cookies"
    max_message_size: int | None = 1024 * 1024
    idle_timeout: float | None = None
    invalid_message: Literal["close", "error"] = "close"


DEFAULT_CONFIG = WebSocketConfig()

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _authority(scheme: str, netloc: str) -> str:
    netloc = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(":" + default):
        netloc = netloc[: -len(default) - 1]
    return netloc


def _matches(origin: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    origin_parts, pattern_parts = urlsplit(origin), urlsplit(pattern.lower())
    if origin_parts.scheme != pattern_parts.scheme:
        return False
    host = _authority(origin_parts.scheme, origin_parts.netloc)
    wanted = _authority(pattern_parts.scheme, pattern_parts.netloc)
    if wanted.startswith("*."):
        return host.endswith(wanted[1:]) and len(host) > len(wanted) - 1
    return host == wanted


def origin_allowed(connection: HTTPConnection, config: WebSocketConfig = DEFAULT_CONFIG) -> bool:
    """Whether the handshake's ``Origin`` may open this WebSocket.

    It may when it is the app's own origin (the same host and port as the ``Host``
    header), one of ``config.allowed_origins``, absent (not a browser), or when the
    check does not apply (``check_origin="cookies"`` and no cookie was sent).
    """
    if config.check_origin == "never":
        return True
    headers = connection.headers
    origin = headers.get("origin")
    if origin is None:
        return True
    if config.check_origin == "cookies" and "cookie" not in headers:
        return True
    origin = origin.strip().lower()
    if origin != "null":
        parts = urlsplit(origin)
        host = headers.get("host", "")
        if parts.scheme in ("http", "https") and _authority(
            parts.scheme, parts.netloc
        ) == _authority(parts.scheme, host):
            return True
    return any(_matches(origin, pattern) for pattern in config.allowed_origins)


class WebSocketState(enum.Enum):
    """Where one side of the connection is."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocket(HTTPConnection):
    """A WebSocket connection; take it as a parameter of an ``@app.websocket`` handler.

    ::

        @app.websocket("/echo")
        async def echo(ws: WebSocket):
            await ws.accept()
            async for text in ws.iter_text():
                await ws.send_text(text)
    """

    __slots__ = ("_send", "_stop", "application_state", "client_state", "config")

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path_params: dict[str, Any] | None = None,
        config: WebSocketConfig = DEFAULT_CONFIG,
    ) -> None:
        super().__init__(scope, receive, path_params)
        self._send = send
        self._stop = stopping()
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        #: The rules this connection follows (the app's ``websocket_config``); a handler
        #: may replace it: ``ws.config = dataclasses.replace(ws.config, idle_timeout=30)``.
        self.config = config

    async def receive_message(self) -> Message:
        """The next raw ASGI message from the client."""
        if self.client_state is WebSocketState.CONNECTING:
            message = await self.receive()
            if message["type"] != "websocket.connect":
                raise RuntimeError(f"Expected websocket.connect, got {message['type']!r}.")
            self.client_state = WebSocketState.CONNECTED
            return message
        if self.client_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive once the client has disconnected.")
        message = await (self.receive() if self._stop is None else self._receive_or_stop())
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        return message

    async def _receive_or_stop(self) -> Message:
        """The client's next message, or, when the server starts shutting down first, a
        close with 1001 ("going away") and a disconnect for the handler."""
        assert self._stop is not None
        receiving = asyncio.ensure_future(self.receive())
        await asyncio.wait((receiving, self._stop), return_when=asyncio.FIRST_COMPLETED)
        if receiving.done():
            return receiving.result()
        receiving.cancel()
        if self.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(WebSocketDisconnect):
                await self.close(1001, "The server is shutting down.")
        return {"type": "websocket.disconnect", "code": 1001}

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message."""
        if self.application_state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot send once the connection is closed.")
        if message["type"] in ("websocket.close", "websocket.http.response.start"):
            self.application_state = WebSocketState.DISCONNECTED
        elif message["type"] == "websocket.accept":
            self.application_state = WebSocketState.CONNECTED
        try:
            await self._send(message)
        except OSError as exc:
            # The client left while we were sending (uvicorn raises ClientDisconnected, an
            # OSError): the same as any other disconnect for the handler.
            self.application_state = self.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006, "The client disconnected.") from exc

    async def accept(
        self, subprotocol: str | None = None, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Accept the connection (after reading the client's connect message)."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive_message()
        await self.send(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": headers or []}
        )

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def deny(self, status_code: int = 403, detail: str | None = None) -> None:
        """Refuse the handshake with an HTTP ``status_code`` (before ``accept``).

        The client gets a problem+json response when the server can send one (the ASGI
        ``websocket.http.response`` extension, which uvicorn has), else a plain 403.
        """
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError("deny() refuses a handshake: the connection is already accepted.")
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            await self.close(CLOSE_POLICY, detail)
            return
        response = problem_response(status_code, detail)
        await self.send(
            {
                "type": "websocket.http.response.start",
                "status": status_code,
                "headers": response.raw_headers,
            }
        )
        await self._send({"type": "websocket.http.response.body", "body": response.body})

    async def refuse(self, exc: HTTPException) -> None:
        """Answer an ``HTTPException`` raised while serving the connection: before
        ``accept``, the handshake gets its status; after, the connection is closed with
        1008 and the detail as the reason."""
        if self.application_state is WebSocketState.CONNECTING:
            await self.deny(exc.status_code, exc.detail)
        elif self.application_state is WebSocketState.CONNECTED:
            await self.close(CLOSE_POLICY, (exc.detail or "")[:120])

    async def _receive_data(self) -> Message:
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected. Call "accept" first.')
        config = self.config
        if config.idle_timeout is None:
            message = await self.receive_message()
        else:
            try:
                message = await asyncio.wait_for(self.receive_message(), config.idle_timeout)
            except TimeoutError:
                await self.close(CLOSE_GOING_AWAY, "Idle timeout.")
                raise WebSocketDisconnect(CLOSE_GOING_AWAY, "Idle timeout.") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        limit = config.max_message_size
        if limit is not None:
            data = message.get("text")
            size = len(data.encode()) if data is not None else len(message.get("bytes") or b"")
            if size > limit:
                await self.close(CLOSE_TOO_BIG, "Message too big.")
                raise WebSocketDisconnect(CLOSE_TOO_BIG, "Message too big.")
        return message

    async def receive_text(self) -> str:
        """The next text frame."""
        message = await self._receive_data()
        text = message.get("text")
        if text is None:
            raise WebSocketDisconnect(1003, "Expected a text frame.")
        return str(text)

    async def receive_bytes(self) -> bytes:
        """The next binary frame."""
        message = await self._receive_data()
        data = message.get("bytes")
        if data is None:
            raise WebSocketDisconnect(1003, "Expected a binary frame.")
        return bytes(data)

    async def receive_json(self) -> Any:
        """The next frame, parsed as JSON."""
        message = await self._receive_data()
        data = message.get("text") if message.get("text") is not None else message.get("bytes")
        return from_json(data or b"")

    async def receive_model(
        self, model: type[T], *, on_invalid: Literal["close", "error"] | None = None
    ) -> T:
        """The next message (a JSON text or binary frame), validated as ``model``.

        ``model`` is a pydantic model, a dataclass, a TypedDict, ``list[int]``... A message
        that does not validate closes the connection with 1007 (raising
        :class:`~nightowl.exceptions.WebSocketDisconnect`), or, with
        ``on_invalid="error"`` (default: the config's ``invalid_message``), is answered
        with ``{"type": "error", "errors": [...]}`` and the next message is awaited.

        ::

            class Chat(BaseModel):
                text: str = Field(max_length=500)

            chat = await ws.receive_model(Chat)
        """
        from pydantic import ValidationError

        adapter = _adapter(model)
        policy = on_invalid or self.config.invalid_message
        while True:
            message = await self._receive_data()
            text = message.get("text")
            raw = text if text is not None else message.get("bytes") or b""
            try:
                value: T = adapter.validate_json(raw)
                return value
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_context=False, include_input=False)
                if policy == "close":
                    await self.close(CLOSE_INVALID_DATA, "Invalid message.")
                    raise WebSocketDisconnect(CLOSE_INVALID_DATA, "Invalid message.") from None
                await self.send_json({"type": "error", "errors": errors})

    async def iter_models(self, model: type[T]) -> AsyncIterator[T]:
        """Messages validated as ``model`` (see :meth:`receive_model`) until the client
        disconnects."""
        try:
            while True:
                yield await self.receive_model(model)
        except WebSocketDisconnect:
            return

    async def send_text(self, data: str) -> None:
        """Send a text frame."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text frame."""
        await self.send({"type": "websocket.send", "text": dump_json(data).decode()})

    async def iter_text(self) -> AsyncIterator[str]:
        """Text frames until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary frames until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return


_adapters: dict[Any, Any] = {}


def _adapter(model: Any) -> Any:
    adapter = _adapters.get(model)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _adapters[model] = TypeAdapter(model)
    return adapter


#: The annotations of a parameter that takes the connection's messages.
_STREAMS = (collections.abc.AsyncIterator, collections.abc.AsyncIterable)
_readers: dict[Any, Callable[[WebSocket], Awaitable[AsyncIterator[Any]]]] = {}


def message_reader(
    annotation: Any,
) -> Callable[[WebSocket], Awaitable[AsyncIterator[Any]]] | None:
    """What fills a WebSocket handler's parameter annotated ``annotation``, when it is
    ``AsyncIterator[T]`` (or ``AsyncIterable[T]``); else ``None``.

    The iterator yields the connection's messages until the client disconnects:
    ``str`` text frames, ``bytes`` binary frames, any other ``T`` JSON messages
    validated as ``T`` (:meth:`WebSocket.iter_models`: an invalid message closes with
    1007 or is answered with an error frame, as the config's ``invalid_message`` says).
    Its first read accepts the connection if the handler has not. ::

        @app.websocket("/chat")
        async def chat(ws: WebSocket, messages: AsyncIterator[ChatMessage]):
            async for message in messages:
                await ws.send_json({"echo": message.text})
    """
    if get_origin(annotation) not in _STREAMS:
        return None
    args = get_args(annotation)
    item = args[0] if args else Any
    reader = _readers.get(item)
    if reader is None:
        reader = _readers[item] = _make_reader(item)
    return reader


def _make_reader(item: Any) -> Callable[[WebSocket], Awaitable[AsyncIterator[Any]]]:
    async def messages(websocket: WebSocket) -> AsyncIterator[Any]:
        return _messages(websocket, item)

    return messages


async def _messages(websocket: WebSocket, item: Any) -> AsyncIterator[Any]:
    if websocket.application_state is WebSocketState.CONNECTING:
        await websocket.accept()
    frames: AsyncIterator[Any]
    if item is str:
        frames = websocket.iter_text()
    elif item is bytes:
        frames = websocket.iter_bytes()
    elif item is Any:
        frames = websocket.iter_json()
    else:
        frames = websocket.iter_models(item)
    async for frame in frames:
        yield frame
