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
import contextlib
import threading
from collections.abc import Awaitable, Coroutine
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx

from nightowl._types import ASGIApp, Message

__all__ = ["AsyncTestClient", "TestClient"]

T = TypeVar("T")


def _scope_for(request: httpx.Request, state: dict[str, Any], root_path: str) -> dict[str, Any]:
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
        "extensions": {},
        "state": dict(state),
    }


async def _call_app(
    app: ASGIApp, request: httpx.Request, body: bytes, state: dict[str, Any], root_path: str
) -> httpx.Response:
    scope = _scope_for(request, state, root_path)
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

    await app(scope, receive, send)
    if status is None:
        raise RuntimeError("The app returned without sending a response.")
    return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


class _Lifespan:
    """Drives the ASGI lifespan protocol of any app (nightowl's or a middleware-wrapped one)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        try:
            await self.app(scope, self._to_app.get, self._from_app.put)
        finally:
            await self._from_app.put({"type": "_done"})

    async def _expect(self, ok: str) -> None:
        message = await self._from_app.get()
        if message["type"] == ok:
            return
        if message["type"] == "_done":
            if self._task is not None and self._task.done() and self._task.exception() is not None:
                raise self._task.exception()  # type: ignore[misc]
            return
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


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        body = request.read()
        return client._portal_call(
            _call_app(client.app, request, body, client._lifespan.state, client.root_path)
        )


class TestClient(httpx.Client):
    """A synchronous httpx client that calls ``app`` in-process.

    Use it as a context manager to run the app's startup and shutdown; without one,
    startup runs before the first request and shutdown on :meth:`close`.

    Args:
        app: any ASGI app.
        base_url: the URL requests are relative to.
        root_path: the ASGI ``root_path`` (for apps mounted under a prefix).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self, app: ASGIApp, base_url: str = "http://testserver", root_path: str = "", **kwargs: Any
    ) -> None:
        self.app = app
        self.root_path = root_path
        self._portal: _Portal | None = None
        self._lifespan = _Lifespan(app)
        self._started = False
        kwargs.setdefault("follow_redirects", True)
        super().__init__(base_url=base_url, transport=_SyncTransport(self), **kwargs)

    def _portal_call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._portal is None:
            self._portal = _Portal()
        if not self._started:
            self._started = True
            self._portal.call(self._lifespan.startup())
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
            if self._started:
                self._portal.call(self._lifespan.shutdown())
                self._started = False
            self._portal.close()
            self._portal = None
        super().close()

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on the client's event loop (to reach async app state from a sync test)."""

        async def wrapper() -> T:
            return await awaitable

        return self._portal_call(wrapper())


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        client = self.client
        if not client._started:
            client._started = True
            await client._lifespan.startup()
        body = await request.aread()
        return await _call_app(client.app, request, body, client._lifespan.state, client.root_path)


class AsyncTestClient(httpx.AsyncClient):
    """The asynchronous twin of :class:`TestClient`, for ``async def`` tests::

    async with AsyncTestClient(app) as client:
        response = await client.get("/")
    """

    __test__ = False

    def __init__(
        self, app: ASGIApp, base_url: str = "http://testserver", root_path: str = "", **kwargs: Any
    ) -> None:
        self.app = app
        self.root_path = root_path
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
