"""An httpx-based test client that calls the app in-process.

::

    from nightowl.testing import TestClient

    def test_hello():
        with TestClient(app) as client:          # runs startup and shutdown
            assert client.get("/").json() == {"message": "hello world"}

``AsyncTestClient`` is the same for ``async`` tests. Both keep cookies between requests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import threading
import weakref
from collections.abc import Awaitable, Coroutine, Mapping
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx

from nightowl._errors import RAISE_SERVER_EXCEPTIONS
from nightowl.exceptions import WebSocketDisconnect
from nightowl.responses import dump_json
from nightowl.types import ASGIApp, Message

__all__ = ["AsyncTestClient", "TestClient", "WebSocketTestSession"]

T = TypeVar("T")


def _scope_for(
    request: httpx.Request, state: dict[str, Any], root_path: str, raise_errors: bool = False
) -> dict[str, Any]:
    url = request.url
    default_port = 443 if url.scheme == "https" else 80
    raw_path = url.raw_path.split(b"?", 1)[0]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "root_path": root_path,
        "query_string": url.query,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("testclient", 50000),
        "server": (url.host, url.port or default_port),
        "extensions": {RAISE_SERVER_EXCEPTIONS: {}} if raise_errors else {},
        "state": dict(state),
    }


async def _call_app(
    client: TestClient | AsyncTestClient, request: httpx.Request, body: bytes
) -> httpx.Response:
    raise_errors = client.raise_server_exceptions
    scope = _scope_for(request, client._lifespan.state, client.root_path, raise_errors)
    sent_body = False
    response_done = asyncio.Event()
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await response_done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            if status is not None:
                raise RuntimeError("http.response.start sent twice")
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            if status is None:
                raise RuntimeError("http.response.body sent before http.response.start")
            if response_done.is_set():
                raise RuntimeError("http.response.body sent after the response completed")
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                response_done.set()

    try:
        await client.app(scope, receive, send)
    except Exception:
        if raise_errors:
            raise
        if status is None:  # an app that raised instead of answering: what a server sends
            return httpx.Response(500, request=request)
    if status is None:
        raise RuntimeError("The app returned without sending a response.")
    # A stream, not content=: httpx would add a Content-Length the app never sent.
    return httpx.Response(
        status, headers=headers, stream=httpx.ByteStream(b"".join(chunks)), request=request
    )


def _headers(given: Any) -> httpx.Headers:
    """The client's default headers: ``User-Agent: testclient`` unless ``given`` names one."""
    headers = httpx.Headers(given)
    headers.setdefault("user-agent", "testclient")
    return headers


class _Lifespan:
    """Drives the ASGI lifespan protocol of any app (nightowl's or a middleware-wrapped one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.error: Exception | None = None

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        except Exception as exc:
            self.error = exc
        finally:
            await self._from_app.put({"type": "_done"})

    async def _expect(self, ok: str) -> None:
        message = await self._from_app.get()
        if message["type"] in (ok, "_done"):
            return  # "_done" first: the app does not speak lifespan, which is allowed
        # Startup or shutdown failed: surface the app's own exception.
        if self._task is not None:
            await asyncio.wait([self._task])
        if self.error is not None:
            raise self.error
        raise RuntimeError(message.get("message") or message["type"])

    async def startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._to_app.put({"type": "lifespan.startup"})
        await self._expect("lifespan.startup.complete")

    async def shutdown(self) -> None:
        if self._task is None or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        await self._expect("lifespan.shutdown.complete")
        with contextlib.suppress(Exception):
            await self._task


class _Portal:
    """An event loop in a background thread that runs the app for a sync client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="nightowl-testclient", daemon=True
        )
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def _stop(portal: _Portal, lifespan: _Lifespan) -> None:
    try:
        portal.call(lifespan.shutdown())
    finally:
        portal.close()


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        body = request.read()
        return client._portal_call(_call_app(client, request, body))


class _ClientClosed(OSError):
    """Raised by the test session's ``send`` once the test has closed the WebSocket."""


_APP_DONE: Message = {"type": "_app_done"}


class WebSocketTestSession:
    """A WebSocket connection to the app, opened by :meth:`TestClient.websocket_connect`.

    Use it as a context manager: entering runs the handshake (and raises
    :class:`~nightowl.exceptions.WebSocketDisconnect` if the app refuses the
    connection); leaving closes the connection and waits for the handler to finish.

    ::

        with client.websocket_connect("/echo") as ws:
            ws.send_text("hi")
            assert ws.receive_text() == "hi"

    Attributes:
        accepted_subprotocol: the subprotocol the app chose in ``accept``.
        accepted_headers: the extra headers the app sent with ``accept``.
        close_code: the code the app closed with, once it has.
        close_reason: the reason the app gave when closing.
    """

    #: Seconds to wait for the handler to finish after the test closes the connection,
    #: before cancelling it.
    close_timeout = 5.0

    def __init__(self, client: TestClient, request: httpx.Request, subprotocols: list[str]) -> None:
        self._client = client
        self._request = request
        self._subprotocols = subprotocols
        self._to_app: asyncio.Queue[Message] | None = None
        self._from_app: asyncio.Queue[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._client_closed = False
        self.accepted_subprotocol: str | None = None
        self.accepted_headers: list[tuple[bytes, bytes]] = []
        self.close_code: int | None = None
        self.close_reason: str = ""

    # -- running the app on the client's loop ----------------------------------------------------
    def _scope(self) -> dict[str, Any]:
        client = self._client
        scope = _scope_for(
            self._request, client._lifespan.state, client.root_path, client.raise_server_exceptions
        )
        scope["type"] = "websocket"
        scope["scheme"] = "wss" if scope["scheme"] == "https" else "ws"
        del scope["method"]
        scope["subprotocols"] = list(self._subprotocols)
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        headers += [
            (b"connection", b"upgrade"),
            (b"upgrade", b"websocket"),
            (b"sec-websocket-version", b"13"),
            (b"sec-websocket-key", base64.b64encode(os.urandom(16))),
        ]
        if self._subprotocols:
            headers.append((b"sec-websocket-protocol", ", ".join(self._subprotocols).encode()))
        return scope

    async def _start(self) -> None:
        to_app: asyncio.Queue[Message] = asyncio.Queue()
        from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._to_app, self._from_app = to_app, from_app
        to_app.put_nowait({"type": "websocket.connect"})
        scope = self._scope()

        async def send(message: Message) -> None:
            if self._client_closed:
                raise _ClientClosed("The test client closed the WebSocket.")
            from_app.put_nowait(message)

        async def run() -> None:
            try:
                await self._client.app(scope, to_app.get, send)
            except Exception as exc:
                self._error = exc
            finally:
                from_app.put_nowait(_APP_DONE)

        self._task = asyncio.get_running_loop().create_task(run())

    async def _finish(self) -> None:
        if self._task is None:
            return
        done, _ = await asyncio.wait((self._task,), timeout=self.close_timeout)
        if not done:
            self._task.cancel()
            await asyncio.wait((self._task,))

    def _put(self, message: Message) -> None:
        assert self._to_app is not None
        self._client._portal_call(self._put_async(self._to_app, message))

    @staticmethod
    async def _put_async(queue: asyncio.Queue[Message], message: Message) -> None:
        queue.put_nowait(message)

    # -- the handshake -------------------------------------------------------------------------
    def __enter__(self) -> WebSocketTestSession:
        self._client._portal_call(self._start())
        message = self.receive()
        kind = message["type"]
        if kind == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.accepted_headers = list(message.get("headers") or [])
            return self
        try:
            self._raise_for(message)
            raise RuntimeError(f"Expected websocket.accept or websocket.close, got {kind!r}.")
        finally:
            self.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close()
        error = self._error
        if exc_type is None and error is not None and not isinstance(error, _ClientClosed):
            raise error

    # -- talking -------------------------------------------------------------------------------
    def _raise_for(self, message: Message) -> None:
        """Raise for a message that ends the connection: the app's close, or its end."""
        if message is _APP_DONE:
            assert self._from_app is not None
            self._from_app.put_nowait(_APP_DONE)  # later receives raise too
            if self._error is not None and not isinstance(self._error, _ClientClosed):
                raise self._error
            raise WebSocketDisconnect(
                self.close_code or 1000, self.close_reason or "The app has finished."
            )
        if message["type"] == "websocket.close":
            self.close_code = int(message.get("code") or 1000)
            self.close_reason = message.get("reason") or ""
            if not self._client_closed:
                # As a server does: the app's next receive() reports the disconnect.
                self._put({"type": "websocket.disconnect", "code": self.close_code})
            raise WebSocketDisconnect(self.close_code, self.close_reason)

    def receive(self, timeout: float | None = None) -> Message:
        """The next raw ASGI message the app sent (waiting at most ``timeout`` seconds)."""
        assert self._from_app is not None
        return self._client._portal_call(asyncio.wait_for(self._from_app.get(), timeout))

    def _receive_data(self, timeout: float | None) -> Message:
        message = self.receive(timeout)
        if message is _APP_DONE or message["type"] != "websocket.send":
            self._raise_for(message)
            raise RuntimeError(f"Expected websocket.send, got {message['type']!r}.")
        return message

    def receive_text(self, timeout: float | None = None) -> str:
        """The next text frame; raises ``WebSocketDisconnect`` if the app closed instead."""
        message = self._receive_data(timeout)
        text = message.get("text")
        if text is None:
            raise TypeError(f"Expected a text frame, got bytes: {message.get('bytes')!r}")
        return str(text)

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        """The next binary frame; raises ``WebSocketDisconnect`` if the app closed instead."""
        message = self._receive_data(timeout)
        data = message.get("bytes")
        if data is None:
            raise TypeError(f"Expected a binary frame, got text: {message.get('text')!r}")
        return bytes(data)

    def receive_json(self, mode: str = "text", timeout: float | None = None) -> Any:
        """The next frame (text or, with ``mode="binary"``, binary) parsed as JSON."""
        if mode == "binary":
            return json.loads(self.receive_bytes(timeout))
        return json.loads(self.receive_text(timeout))

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app."""
        self._put(message)

    def send_text(self, data: str) -> None:
        """Send a text frame."""
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary frame."""
        self._put({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as JSON in a text frame (or, with ``mode="binary"``, a binary one)."""
        encoded = dump_json(data)
        if mode == "binary":
            self.send_bytes(encoded)
        else:
            self.send_text(encoded.decode())

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the client side and wait for the handler to finish."""
        if self._task is None:
            return
        if not self._client_closed:
            self._client_closed = True
            if self.close_code is None:
                self._put({"type": "websocket.disconnect", "code": code, "reason": reason or ""})
        self._client._portal_call(self._finish())


class TestClient(httpx.Client):
    """A synchronous httpx client that calls ``app`` in-process.

    Use it as a context manager to run the app's startup and shutdown; without one,
    startup runs before the first request and shutdown on :meth:`close`.

    Args:
        app: any ASGI app.
        base_url: the URL requests are relative to.
        root_path: the ASGI ``root_path`` (for apps mounted under a prefix).
        raise_server_exceptions: raise an exception the app did not handle in the test
            (the default, as FastAPI's and Starlette's clients do); ``False`` returns the
            500 response a client would get instead.
        **kwargs: for ``httpx.Client`` (``headers``, ``cookies``, ``follow_redirects``
            (true by default)...). Requests say ``User-Agent: testclient`` unless told otherwise.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        root_path: str = "",
        raise_server_exceptions: bool = True,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.raise_server_exceptions = raise_server_exceptions
        kwargs["headers"] = _headers(kwargs.get("headers"))
        self._portal: _Portal | None = None
        self._lifespan = _Lifespan(app)
        self._started = False
        kwargs.setdefault("follow_redirects", True)
        super().__init__(base_url=base_url, transport=_SyncTransport(self), **kwargs)

    def _portal_call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._portal is None:
            self._portal = _Portal()
            # A client that is never closed still shuts the app down and stops its loop.
            self._finalizer = weakref.finalize(self, _stop, self._portal, self._lifespan)
        if not self._started:
            self._started = True
            try:
                self._portal.call(self._lifespan.startup())
            except BaseException:
                coroutine.close()
                raise
        return self._portal.call(coroutine)

    def __enter__(self) -> TestClient:
        super().__enter__()
        if not self._started:
            self._portal_call(asyncio.sleep(0))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close()
        super().__exit__(exc_type, exc, tb)

    def close(self) -> None:
        """Run the app's shutdown and stop the background loop."""
        if self._portal is not None:
            self._finalizer()
            self._started = False
            self._portal = None
        super().close()

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the client's event loop (to reach async app state from a sync test)."""

        async def wrapper() -> T:
            return await awaitable

        return self._portal_call(wrapper())

    def websocket_connect(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app at ``path``; use the result as a context manager.

        The client's base URL, default headers and cookies apply, as for HTTP requests.

        ::

            with client.websocket_connect("/ws/chat", subprotocols=["chat"]) as ws:
                ws.send_json({"text": "hi"})
                assert ws.receive_json() == {"echo": "hi"}

        Raises:
            WebSocketDisconnect: (on entering) the app closed instead of accepting.
        """
        request = self.build_request("GET", path, headers=headers)
        return WebSocketTestSession(self, request, list(subprotocols or []))


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        if not client._started:
            client._started = True
            await client._lifespan.startup()
        body = await request.aread()
        return await _call_app(client, request, body)


class AsyncTestClient(httpx.AsyncClient):
    """The asynchronous twin of :class:`TestClient`, for ``async def`` tests::

    async with AsyncTestClient(app) as client:
        response = await client.get("/")
    """

    __test__ = False

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        root_path: str = "",
        raise_server_exceptions: bool = True,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.raise_server_exceptions = raise_server_exceptions
        kwargs["headers"] = _headers(kwargs.get("headers"))
        self._lifespan = _Lifespan(app)
        self._started = False
        kwargs.setdefault("follow_redirects", True)
        super().__init__(base_url=base_url, transport=_AsyncTransport(self), **kwargs)

    async def __aenter__(self) -> AsyncTestClient:
        await super().__aenter__()
        if not self._started:
            self._started = True
            await self._lifespan.startup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.aclose()
        await super().__aexit__(exc_type, exc, tb)

    async def aclose(self) -> None:
        """Run the app's shutdown and close the client."""
        if self._started:
            self._started = False
            await self._lifespan.shutdown()
        await super().aclose()
