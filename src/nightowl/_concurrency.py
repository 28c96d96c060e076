"""Running blocking code off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

try:  # the C queue that queue.SimpleQueue is, without the rest of the queue module
    from _queue import SimpleQueue
except ImportError:  # pragma: no cover - an interpreter without it
    from queue import SimpleQueue

__all__ = ["iterate_in_threadpool", "run_in_threadpool", "set_threadpool_size"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_max_workers = int(os.environ.get("NIGHTOWL_THREADS", "40"))


class _ThreadPool:
    """Worker threads fed by one queue, answering straight into asyncio futures.

    ``loop.run_in_executor`` chains a ``concurrent.futures.Future`` (a lock and a
    condition per call) to an asyncio future; this pool skips that: a worker runs the
    job and wakes the loop once with ``call_soon_threadsafe``. Threads start lazily,
    up to ``max_workers``, and live as daemons for the life of the process.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._jobs: SimpleQueue[tuple[Any, ...]] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # workers waiting for a job and not yet promised one

    def submit(self, job: tuple[Any, ...]) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1  # that worker will take this job
                start = False
            else:
                start = self._threads < self.max_workers
                if start:
                    self._threads += 1
        self._jobs.put(job)
        if start:
            name = f"nightowl-worker-{self._threads}"
            threading.Thread(target=self._work, name=name, daemon=True).start()

    def _work(self) -> None:
        jobs, lock = self._jobs, self._lock
        while True:
            loop, future, context, func, args, kwargs = jobs.get()
            if not future.cancelled():
                try:
                    result = context.run(func, *args, **kwargs)
                except StopIteration:
                    # asyncio futures refuse StopIteration; it means a generator ran dry.
                    error: BaseException = RuntimeError(f"{func!r} raised StopIteration")
                    loop.call_soon_threadsafe(_set_exception, future, error)
                except BaseException as exc:
                    loop.call_soon_threadsafe(_set_exception, future, exc)
                else:
                    loop.call_soon_threadsafe(_set_result, future, result)
            with lock:
                self._idle += 1


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


_pool: _ThreadPool | None = None


def set_threadpool_size(max_workers: int) -> None:
    """Set how many threads run sync handlers and dependencies (40 by default)."""
    global _pool, _max_workers
    _max_workers = max_workers
    if _pool is not None:
        _pool.max_workers = max_workers


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call a blocking ``func`` in the worker thread pool, keeping context variables."""
    global _pool
    if _pool is None:
        _pool = _ThreadPool(_max_workers)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()
    _pool.submit((loop, future, contextvars.copy_context(), func, args, kwargs))
    return await future


class _Exhausted(Exception):
    pass


def _next(iterator: Iterator[_T]) -> _T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterable: Iterable[_T]) -> AsyncIterator[_T]:
    """Iterate a blocking iterable, one ``next()`` per thread hop."""
    iterator = iter(iterable)
    while True:
        try:
            yield await run_in_threadpool(_next, iterator)
        except _Exhausted:
            return


def is_async_callable(obj: Any) -> bool:
    """True for coroutine functions, also behind ``functools.partial`` or ``__call__``."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.iscoroutinefunction(obj):
        return True
    # A callable instance (``Depends(APIKeyHeader(...))``): its __call__ decides.
    return (
        callable(obj) and not inspect.isroutine(obj) and inspect.iscoroutinefunction(obj.__call__)
    )
