"""Where cached values live: :class:`MemoryBackend` (one process) and :class:`RedisBackend`."""

from nightowl.cache.backends._base import CacheBackend
from nightowl.cache.backends.memory import MemoryBackend
from nightowl.cache.backends.redis import RedisBackend

__all__ = ["CacheBackend", "MemoryBackend", "RedisBackend"]
