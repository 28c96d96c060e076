"""``fastapi.exceptions``: nightowl's exceptions under FastAPI's (and Starlette's) names."""

from nightowl.exceptions import (
    HTTPException,
    ImproperlyConfigured,
    RequestValidationError,
    ResponseValidationError,
    WebSocketException,
)

#: FastAPI's error for a program that cannot work (nightowl: ``ImproperlyConfigured``).
FastAPIError = ImproperlyConfigured


class FastAPIDeprecationWarning(DeprecationWarning):
    """FastAPI's warning for deprecated uses (nightowl warns with ``DeprecationWarning``)."""


#: Starlette's ``HTTPException``, which FastAPI's subclasses: nightowl has one.
StarletteHTTPException = HTTPException

__all__ = [
    "FastAPIDeprecationWarning",
    "FastAPIError",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    "StarletteHTTPException",
    "WebSocketException",
]
