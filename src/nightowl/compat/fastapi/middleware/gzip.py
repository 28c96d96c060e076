"""``fastapi.middleware.gzip``: nightowl's ``GZipMiddleware``."""

from nightowl.middleware import GZipMiddleware

__all__ = ["GZipMiddleware"]
