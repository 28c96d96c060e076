"""``fastapi.requests``: nightowl's ``Request`` and ``HTTPConnection``."""

from nightowl.requests import HTTPConnection, Request

__all__ = ["HTTPConnection", "Request"]
