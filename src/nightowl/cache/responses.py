"""Caching whole responses of ``GET`` routes: ``@cache_response(60)``.

The decorator wraps the handler. On a hit it answers from the cache without calling
the handler; on a miss the first request computes (the others, in every worker that
shares the cache, wait for it) and its response is stored once rendered, through the
request's ``before_response`` hook. Every cached answer carries an ``ETag`` and a
``Cache-Control``, and a client that sends ``If-None-Match`` with that tag gets a 304.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from nightowl._concurrency import run_in_threadpool
from nightowl.cache._cache import Cache, CacheLock
from nightowl.requests import Request
from nightowl.responses import Response

__all__ = ["cache_of", "cache_response"]

F = TypeVar("F", bound=Callable[..., Any])

# The wrapper's own parameter: the request, injected by annotation like any other.
_REQUEST = "nightowl_cache_request"
# Headers a 304 repeats from the response it stands for (RFC 9110, 15.4.5).
_NOT_MODIFIED_HEADERS = (b"etag", b"cache-control", b"vary", b"content-location", b"expires")
# A response with one of these in Cache-Control is not stored.
_UNCACHEABLE = ("private", "no-store", "no-cache")


def cache_of(app: Any) -> Cache:
    """The app's cache (``App(cache=...)``), or a memory cache made on first use."""
    cache: Cache | None = getattr(app.state, "cache", None)
    if cache is None:
        cache = app.state.cache = Cache()
    return cache


def cache_response(
    ttl: float = 60,
    *,
    vary: Sequence[str] = (),
    cache_control: str | None = None,
    cache: Cache | None = None,
    lock_timeout: float = 10.0,
) -> Callable[[F], F]:
    """Cache the responses of a ``GET`` route for ``ttl`` seconds::

        @app.get("/articles")
        @cache_response(60, vary=["Accept-Language"])
        async def articles() -> list[Article]: ...

    One entry per path and query string, and per value of each request header named in
    ``vary`` or in the response's own ``Vary`` header. Only ``200`` responses with a
    body are stored, never one that sets a cookie, says ``Cache-Control: private`` (or
    ``no-store``/``no-cache``) or ``Vary: *``; requests with an ``Authorization`` header
    skip the cache unless ``vary`` names it. ``Cache-Control`` is ``max-age=<ttl>``
    unless ``cache_control`` or the handler sets one.

    Args:
        ttl: seconds an entry lives.
        vary: request headers whose values select different entries.
        cache_control: the ``Cache-Control`` header of cached responses.
        cache: the cache to use; the app's (``App(cache=...)``) by default.
        lock_timeout: seconds concurrent misses wait for the one computing the response.
    """
    if ttl <= 0:
        raise ValueError(f"cache_response needs a ttl above 0 seconds, not {ttl}")
    rule = _Rule(ttl, vary, cache_control or f"max-age={int(ttl)}", cache, lock_timeout)

    def decorator(handler: F) -> F:
        if not inspect.isfunction(handler) and not inspect.ismethod(handler):
            raise TypeError(f"cache_response decorates a handler function, not {handler!r}")
        return rule.wrap(handler)  # type: ignore[return-value]

    return decorator


class _Rule:
    """One route's caching settings, and the request-time work."""

    def __init__(
        self,
        ttl: float,
        vary: Sequence[str],
        cache_control: str,
        cache: Cache | None,
        lock_timeout: float,
    ) -> None:
        self.ttl = ttl
        self.vary = sorted({name.lower() for name in vary})
        self.cache_control = cache_control
        self.cache = cache
        self.lock_timeout = lock_timeout

    def wrap(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        is_async = inspect.iscoroutinefunction(handler)

        @functools.wraps(handler)
        async def cached(*args: Any, **kwargs: Any) -> Any:
            request: Request = kwargs.pop(_REQUEST)

            async def call() -> Any:
                if is_async:
                    return await handler(*args, **kwargs)
                return await run_in_threadpool(functools.partial(handler, *args, **kwargs))

            return await self.answer(request, call)

        signature = inspect.signature(handler)
        extra = inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        cached.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), extra]
        )
        cached.__annotations__ = {**handler.__annotations__, _REQUEST: Request}
        return cached

    async def answer(self, request: Request, call: Callable[[], Any]) -> Any:
        headers = request.headers
        if request.method not in ("GET", "HEAD") or (
            "authorization" in headers and "authorization" not in self.vary
        ):
            return await call()
        cache = self.cache if self.cache is not None else cache_of(request.app)
        base = f"{request.url.path}?{request.url.query}"
        learned: list[str] = await cache.get("vary:" + _digest(base), [])
        key = _entry_key(base, request, sorted({*self.vary, *learned}))
        entry = await cache.get(key)
        if entry is not None:
            return _replay(entry, request)
        lock = cache.lock(key, timeout=self.lock_timeout)
        if not await lock.__aenter__():
            entry = await cache.get(key)
            if entry is not None:
                await lock.__aexit__(None, None, None)  # in case it took the lock late
                return _replay(entry, request)
        try:
            result = await call()
        except BaseException:
            await lock.__aexit__(None, None, None)
            raise
        request.before_response(_Store(self, cache, base, learned, lock, request))
        return result


class _Store:
    """The ``before_response`` hook: headers on the fresh response, then the entry."""

    def __init__(
        self,
        rule: _Rule,
        cache: Cache,
        base: str,
        learned: list[str],
        lock: CacheLock,
        request: Request,
    ) -> None:
        self.rule = rule
        self.cache = cache
        self.base = base
        self.learned = learned
        self.lock = lock
        self.request = request

    async def __call__(self, response: Response) -> None:
        try:
            if _cacheable(response):
                await self.store(response)
        finally:
            await self.lock.__aexit__(None, None, None)

    async def store(self, response: Response) -> None:
        headers = response.headers
        if "etag" not in headers:
            headers["ETag"] = '"' + hashlib.blake2b(response.body, digest_size=16).hexdigest() + '"'
        if "cache-control" not in headers:
            headers["Cache-Control"] = self.rule.cache_control
        varied = {n.strip().lower() for n in headers.get("vary", "").split(",") if n.strip()}
        names = sorted({*self.rule.vary, *self.learned, *varied})
        if varied - {*self.rule.vary, *self.learned}:
            await self.cache.set("vary:" + _digest(self.base), names, self.rule.ttl)
        entry = {
            "status": response.status_code,
            "headers": [
                [k.decode("latin-1"), v.decode("latin-1")] for k, v in response.raw_headers
            ],
            "body": base64.b64encode(response.body).decode("ascii"),
        }
        await self.cache.set(_entry_key(self.base, self.request, names), entry, self.rule.ttl)
        if _not_modified(self.request, headers.get("etag", "")):
            _to_not_modified(response)


def _cacheable(response: Response) -> bool:
    if response.status_code != 200 or not isinstance(getattr(response, "body", None), bytes):
        return False
    headers = response.headers
    if "set-cookie" in headers or headers.get("vary", "").strip() == "*":
        return False
    control = headers.get("cache-control", "").lower()
    return not any(word in control for word in _UNCACHEABLE)


def _replay(entry: dict[str, Any], request: Request) -> Response:
    response = Response(base64.b64decode(entry["body"]), status_code=entry["status"])
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in entry["headers"]]
    if _not_modified(request, response.headers.get("etag", "")):
        _to_not_modified(response)
    return response


def _not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted or not etag:
        return False
    if wanted.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return etag.removeprefix("W/") in tags


def _to_not_modified(response: Response) -> None:
    response.status_code = 304
    response.body = b""
    response.raw_headers = [(k, v) for k, v in response.raw_headers if k in _NOT_MODIFIED_HEADERS]


def _entry_key(base: str, request: Request, names: list[str]) -> str:
    varied = "\n".join(f"{name}:{request.headers.get(name, '')}" for name in names)
    return "response:" + _digest(base + "\n" + varied)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
