"""Ending long-lived streams when the server is told to stop.

A server stopping gracefully (SIGTERM) waits for every open response to finish. An SSE
stream or a WebSocket never finishes on its own, so without help the server waits out
its whole graceful timeout and then cuts them (uvicorn closes WebSockets with 1012,
granian drops them). Under ``nightowl run`` and ``nightowl serve``,
:func:`install` wraps the server's SIGTERM and SIGINT handlers: on the signal, every SSE
stream ends cleanly and every WebSocket is closed with 1001 ("going away"), then, once
they are gone (or after :data:`GRACE` seconds), the server's own handler runs and the
server stops as usual.

Without :func:`install` (another server, the test client), nothing here runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import weakref
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = ["GRACE", "active", "install", "stopping"]

#: The longest the server's own shutdown waits for streams and sockets to end.
GRACE = 2.0

_installed = False
_signalled = False
_futures: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[None]] = (
    weakref.WeakKeyDictionary()
)
_active = 0


def stopping() -> asyncio.Future[None] | None:
    """A future of the running loop, done once shutdown begins; ``None`` when the hook is
    not installed (nothing will ever end streams early)."""
    if not _installed:
        return None
    loop = asyncio.get_running_loop()
    future = _futures.get(loop)
    if future is None:
        future = _futures[loop] = loop.create_future()
        if _signalled:
            future.set_result(None)
    return future


@contextlib.contextmanager
def active() -> Iterator[None]:
    """Count an open stream or socket, so the server's shutdown waits for it to end."""
    global _active
    _active += 1
    try:
        yield
    finally:
        _active -= 1


def install() -> None:
    """Wrap the SIGTERM and SIGINT handlers the server set (call it from its event loop,
    in the main thread, once the server has set them; it does so before the lifespan
    starts)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        signal.signal(sig, _handler(loop, previous))
    _installed = True


def _handler(loop: asyncio.AbstractEventLoop, previous: Any) -> Any:
    def handle(sig: int, frame: FrameType | None) -> None:
        if _signalled:  # a second signal: straight to the server
            _pass_on(previous, sig, frame)
            return
        loop.call_soon_threadsafe(_begin, loop, previous, sig, frame)

    return handle


def _begin(
    loop: asyncio.AbstractEventLoop, previous: Any, sig: int, frame: FrameType | None
) -> None:
    global _signalled
    _signalled = True
    for future in list(_futures.values()):
        if not future.done():
            future.set_result(None)
    loop.create_task(_then_pass_on(previous, sig, frame))


async def _then_pass_on(previous: Any, sig: int, frame: FrameType | None) -> None:
    deadline = asyncio.get_running_loop().time() + GRACE
    await asyncio.sleep(0)
    while _active > 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # let the last close frames and final chunks leave
    _pass_on(previous, sig, frame)


def _pass_on(previous: Any, sig: int, frame: FrameType | None) -> None:
    if callable(previous):
        previous(sig, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(sig, signal.SIG_DFL)
        signal.raise_signal(sig)
