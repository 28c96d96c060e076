"""``fastapi.middleware.cors``: nightowl's ``CORSMiddleware``."""

from nightowl.middleware import CORSMiddleware

__all__ = ["CORSMiddleware"]
