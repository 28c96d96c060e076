"""The cache battery: an async cache API and cached responses.

``App(cache="redis://127.0.0.1:6379/0")`` (or ``"memory"``, the default) gives the app
a :class:`Cache`, injected into handlers by annotation and found at
``app.state.cache``. :func:`cache_response` caches a ``GET`` route's responses in it,
with ``ETag``, ``Cache-Control``, 304 answers and one computation per stampede.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nightowl.cache._cache import Cache, CacheLock
from nightowl.cache.backends import CacheBackend, MemoryBackend, RedisBackend
from nightowl.cache.responses import cache_of, cache_response
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = [
    "Cache",
    "CacheBackend",
    "CacheLock",
    "MemoryBackend",
    "RedisBackend",
    "cache_of",
    "cache_response",
    "install",
]


def install(app: App, value: Any) -> None:
    """The ``App(cache=...)`` option: ``True``/``"memory"``, a URL, or a :class:`Cache`.

    The cache is injected into handlers that declare a :class:`Cache` parameter and
    closed when the app shuts down. ``False`` or ``None`` leaves the default (a memory
    cache made when first needed).
    """
    if value is False or value is None:
        return
    if value is True:
        cache = Cache()
    elif isinstance(value, str):
        cache = Cache.from_url(value)
    elif isinstance(value, Cache):
        cache = value
    else:
        raise ImproperlyConfigured(
            f"App(cache=...) takes True, 'memory', a redis:// URL or a Cache, not {value!r}."
        )
    app.state.cache = cache
    app.provide(Cache, lambda: cache_of(app))
    app.on_shutdown(cache.close)
