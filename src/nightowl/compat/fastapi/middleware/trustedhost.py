"""``fastapi.middleware.trustedhost``: nightowl's ``TrustedHostMiddleware``."""

from nightowl.middleware import TrustedHostMiddleware

__all__ = ["TrustedHostMiddleware"]
