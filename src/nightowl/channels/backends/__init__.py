"""Where channel messages travel: memory (one process), Redis, PostgreSQL.

``backend_from_url`` picks one by the URL's scheme; :class:`Backend` is what a backend of
your own implements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightowl._lazy import lazy_attributes
from nightowl.channels.backends._base import Backend
from nightowl.channels.backends.memory import MemoryBackend
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.channels.backends.postgres import PostgresBackend
    from nightowl.channels.backends.redis import RedisBackend

__all__ = ["Backend", "MemoryBackend", "PostgresBackend", "RedisBackend", "backend_from_url"]

_REDIS = ("redis", "rediss", "unix")
_POSTGRES = ("postgresql", "postgres")


def backend_from_url(url: str, *, history_size: int = 1000) -> Backend:
    """The backend a URL names: ``memory://``, ``redis://...`` (``rediss://``,
    ``unix://``) or ``postgresql://...`` (``postgres://``, ``postgresql+asyncpg://``)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    base = scheme.split("+", 1)[0]
    if base == "memory":
        return MemoryBackend(history_size=history_size)
    if base in _REDIS:
        from nightowl.channels.backends.redis import RedisBackend

        return RedisBackend(url, history_size=history_size)
    if base in _POSTGRES:
        from nightowl.channels.backends.postgres import PostgresBackend

        return PostgresBackend(url, history_size=history_size)
    raise ImproperlyConfigured(
        f"Unknown channels backend {url!r}: use memory://, redis://host:port/db or "
        "postgresql://user@host/db."
    )


# The Redis and PostgreSQL backends import their drivers: only when asked for.
__getattr__ = lazy_attributes(
    __name__,
    {
        "RedisBackend": "nightowl.channels.backends.redis",
        "PostgresBackend": "nightowl.channels.backends.postgres",
    },
)
