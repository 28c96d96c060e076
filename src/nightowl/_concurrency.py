"""Running blocking code off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = ["iterate_in_threadpool", "run_in_threadpool", "set_threadpool_size"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_executor: ThreadPoolExecutor | None = None
_max_workers = int(os.environ.get("NIGHTOWL_THREADS", "40"))


def set_threadpool_size(max_workers: int) -> None:
    """Set how many threads run sync handlers and dependencies (40 by default)."""
    global _executor, _max_workers
    _max_workers = max_workers
    if _executor is not None:
        _executor.shutdown(wait=False)
        _executor = None


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=_max_workers, thread_name_prefix="nightowl")
    return _executor


async def run_in_threadpool(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Call a blocking ``func`` in the worker thread pool, keeping context variables."""
    context = contextvars.copy_context()
    call: Callable[[], _T]
    if kwargs:
        call = functools.partial(context.run, functools.partial(func, *args, **kwargs))
    else:
        call = functools.partial(context.run, func, *args)
    return await asyncio.get_running_loop().run_in_executor(_get_executor(), call)


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
