"""``fastapi.middleware.httpsredirect``: nightowl's ``HTTPSRedirectMiddleware``."""

from nightowl.middleware import HTTPSRedirectMiddleware

__all__ = ["HTTPSRedirectMiddleware"]
