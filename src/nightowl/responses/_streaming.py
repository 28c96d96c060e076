"""``StreamingResponse``: a body from a sync or async iterator, stopped when the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterable, Coroutine, Iterable, Mapping
from typing import Any

from nightowl._concurrency import iterate_in_threadpool, run_in_threadpool
from nightowl._shutdown import active, stopping
from nightowl.responses._base import BackgroundCall, Response
from nightowl.types import Receive, Scope, Send

__all__ = ["ContentStream", "StreamingResponse"]

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


async def _run_until_disconnect(
    work: Coroutine[Any, Any, None],
    receive: Receive,
    stop: asyncio.Future[None] | None = None,
) -> bool:
    """Run ``work`` while listening for ``http.disconnect``; ``False`` if the client left first.

    Whichever finishes first cancels the other. Errors raised by ``work`` propagate.
    ``stop`` done (the server shutting down) ends ``work`` too, as if it had finished.
    """
    loop = asyncio.get_running_loop()
    worker = loop.create_task(work)
    listener = loop.create_task(_wait_for_disconnect(receive))
    waiting: set[asyncio.Future[Any]] = {worker, listener}
    if stop is not None:
        waiting.add(stop)
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (worker, listener):
            task.cancel()
        # Let both unwind (a cancelled generator runs its ``finally`` here).
        await asyncio.wait((worker, listener))
    if not listener.cancelled():
        listener.exception()  # a failing receive() counts as a disconnect
    if stop is not None and stop.done() and listener.cancelled():
        return True  # shutting down: the stream ends, cleanly
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

    #: End the stream (cleanly) when the server starts shutting down, rather than make
    #: the shutdown wait for it: for endless streams such as Server-Sent Events.
    ends_on_shutdown = False

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
        stop = stopping() if self.ends_on_shutdown else None
        try:
            with active() if stop is not None else contextlib.nullcontext():
                finished = scope.get("method") == "HEAD" or await _run_until_disconnect(
                    self.stream_body(send), receive, stop
                )
                if finished:
                    await send({"type": "http.response.body", "body": b""})
        finally:
            await self.aclose()
        if self.background is not None:
            await self.background()
