"""``RateLimit``: a dependency that counts requests and answers 429 past the limit."""

from __future__ import annotations

import inspect
import math
import time
import weakref
from typing import Any

from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.params import Depends
from nightowl.ratelimit._keys import KeyFunction, by_client
from nightowl.requests import Request
from nightowl.responses import Response
from nightowl.routing import Route

__all__ = ["RateLimit", "configure_storage", "install", "route_option"]

_DOCUMENTED_429 = {
    429: {
        "description": "Too many requests: the rate limit is reached. Retry-After says when "
        "to try again.",
        "headers": {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
            "RateLimit-Limit": {"schema": {"type": "integer"}},
            "RateLimit-Remaining": {"schema": {"type": "integer"}},
            "RateLimit-Reset": {"schema": {"type": "integer"}},
        },
    }
}


def _limits() -> Any:
    try:
        import limits
        import limits.aio.strategies
    except ImportError:
        raise ImproperlyConfigured(
            "Rate limits need the limits package: pip install 'nightowl[ratelimit]'."
        ) from None
    return limits


class _Backend:
    """One app's storage and strategy, made on first use."""

    def __init__(self, storage: str) -> None:
        limits = _limits()
        scheme = storage.partition("://")[0]
        options: dict[str, Any] = {}
        if scheme in ("redis", "rediss"):
            options["implementation"] = "redispy"  # the redis package nightowl uses elsewhere
        try:
            self.storage = limits.storage.storage_from_string(f"async+{storage}", **options)
        except Exception as exc:
            raise ImproperlyConfigured(
                f"rate_limit_storage {storage!r} is not usable: {exc}. "
                "Use 'memory://' or 'redis://host:6379/0'."
            ) from None
        # A moving window: no burst of twice the limit across a window's edge.
        self.limiter = limits.aio.strategies.MovingWindowRateLimiter(self.storage)

    async def close(self) -> None:
        """Close the Redis connections (at the app's shutdown, before its loop ends)."""
        client = getattr(getattr(self.storage, "bridge", None), "storage", None)
        close = getattr(client, "aclose", None)
        if close is not None:
            await close()


_BACKENDS: weakref.WeakKeyDictionary[Any, _Backend] = weakref.WeakKeyDictionary()


def _backend(app: Any) -> _Backend:
    backend = _BACKENDS.get(app)
    if backend is None:
        config = getattr(app, "config", {})
        storage = config.get("rate_limit_storage", "memory://")
        backend = _BACKENDS[app] = _Backend(storage)
    return backend


class _Check:
    """The callable the dependency runs: hit the counter, set the headers, or raise 429."""

    #: Read by the OpenAPI document: the answers this dependency may give.
    openapi_responses = _DOCUMENTED_429

    def __init__(self, limit: str, key: KeyFunction, scope: str | None) -> None:
        limits = _limits()
        try:
            self.item = limits.parse(limit)
        except ValueError:
            raise ImproperlyConfigured(
                f"{limit!r} is not a rate limit: write it as '10/minute', '100 per hour'..."
            ) from None
        self.limit = limit
        self.key = key
        self.is_async = inspect.iscoroutinefunction(key)
        self.scope = scope or f"{limit}:{getattr(key, '__name__', 'key')}"

    async def __call__(self, request: Request, response: Response) -> None:
        found = self.key(request)
        identity: str = await found if self.is_async else found  # type: ignore[misc,assignment]
        backend = _backend(request.app)
        try:
            allowed = await backend.limiter.hit(self.item, self.scope, identity)
            stats = await backend.limiter.get_window_stats(self.item, self.scope, identity)
        except Exception as exc:
            # Failing closed: an unreachable store must not switch every limit off.
            raise HTTPException(
                503, "The rate limit store is unreachable; try again shortly."
            ) from exc
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        headers = {
            "RateLimit-Limit": str(self.item.amount),
            "RateLimit-Remaining": str(max(0, stats.remaining)),
            "RateLimit-Reset": str(reset),
        }
        if not allowed:
            raise HTTPException(
                429,
                f"Too many requests: the limit is {self.limit}. Try again in {reset} s.",
                headers={"Retry-After": str(max(1, reset)), **headers},
            )
        for name, value in headers.items():
            response.headers[name] = value

    def __repr__(self) -> str:
        return f"RateLimit({self.limit!r}, scope={self.scope!r})"


class RateLimit(Depends):
    """A rate limit, as a dependency: ``dependencies=[RateLimit("10/minute")]`` on a route,
    a router or ``app.include(...)``, or ``Annotated[None, RateLimit(...)]``.

    Args:
        limit: ``"10/minute"``, ``"100 per hour"``, ``"5/second"``...
        key: who is counted: :func:`by_client` (default), :func:`by_user`,
            :func:`by_api_key`, or any ``key(request) -> str`` (sync or async).
        scope: the counter's name. Limits with the same scope and key share their count
            (a router-wide limit); by default, the limit and the key function's name.
    """

    __slots__ = ()

    def __init__(
        self, limit: str, *, key: KeyFunction = by_client, scope: str | None = None
    ) -> None:
        super().__init__(_Check(limit, key, scope))


def route_option(value: str, route: Route) -> Depends:
    """``@app.get(path, rate_limit="10/minute")``: the limit of one route, per client.

    Declared in the ``nightowl.route_options`` entry-point group; the counter is named
    after the route (methods, path and handler), so every worker counts together.
    """
    if not isinstance(value, str):
        raise ImproperlyConfigured(
            f"rate_limit= takes a string such as '10/minute', not {value!r}; use "
            "dependencies=[RateLimit(...)] for a key of your own."
        )
    endpoint = route.endpoint
    handler = f"{getattr(endpoint, '__module__', '')}.{getattr(endpoint, '__qualname__', '')}"
    return RateLimit(value, scope=f"{','.join(route.methods)} {route.path} {handler}")


def install(app: Any, value: str) -> None:
    """``App(rate_limit="1000/hour")``: a budget every client has across the whole app,
    counted in addition to each route's own limit."""
    app.dependencies.append(RateLimit(value, scope="app"))


def configure_storage(app: Any, value: str) -> None:
    """``App(rate_limit_storage="redis://127.0.0.1:6379/0")``: where limits count
    (``memory://`` by default; Redis shares the count between workers)."""
    if not isinstance(value, str) or "://" not in value:
        raise ImproperlyConfigured(
            f"rate_limit_storage must be a URL such as 'redis://127.0.0.1:6379/0', not {value!r}."
        )
    backend = _BACKENDS[app] = _Backend(value)  # no connection yet: opened on first use
    app.on_shutdown(backend.close)
