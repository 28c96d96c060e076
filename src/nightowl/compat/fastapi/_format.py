"""FastAPI's error shape as a nightowl error format: ``{"detail": ...}``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from nightowl.encoders import jsonable_encoder
from nightowl.exceptions import HTTPException, RequestValidationError
from nightowl.problems import SERVER_ERROR_DETAIL, ErrorFormat
from nightowl.responses import PlainTextResponse, Response

__all__ = ["FastAPIErrorFormat"]

#: nightowl's own wording for errors it raises itself -> FastAPI's (Starlette's) wording.
_FRAMEWORK_DETAILS = {
    "Nothing matches the given URL.": "Not Found",
    "File not found.": "Not Found",
}


#: pydantic's wording for a JSON body (nightowl validates the JSON text) -> the wording it
#: uses for Python data, which FastAPI validates: ``(type, JSON wording) -> FastAPI's``.
_PYTHON_WORDING: dict[tuple[Any, Any], str] = {
    ("list_type", "Input should be a valid array"): "Input should be a valid list",
    ("tuple_type", "Input should be a valid array"): "Input should be a valid tuple",
    ("set_type", "Input should be a valid array"): "Input should be a valid set",
    ("frozen_set_type", "Input should be a valid array"): "Input should be a valid frozenset",
    ("dict_type", "Input should be an object"): "Input should be a valid dictionary",
}


def _fastapi_wording(entry: Any) -> Any:
    if isinstance(entry, dict):
        wording = _PYTHON_WORDING.get((entry.get("type"), entry.get("msg")))
        if wording is not None:
            return {**entry, "msg": wording}
    return entry


class FastAPIErrorFormat(ErrorFormat):
    """Errors as FastAPI writes them, ``application/json``:

    - an ``HTTPException``: ``{"detail": exc.detail}`` (the status phrase when there is none);
    - a validation error: ``{"detail": [{"type", "loc", "msg", "input", "ctx"}...]}``.

    The OpenAPI document names the schemas ``HTTPValidationError`` and ``ValidationError``,
    as FastAPI's do.
    """

    media_type = "application/json"

    def response(self, exc: HTTPException) -> Response:
        """FastAPI's response for ``exc``; an unhandled error's 500 is Starlette's plain
        ``Internal Server Error``."""
        if exc.status_code == 500 and exc.detail == SERVER_ERROR_DETAIL:
            return PlainTextResponse("Internal Server Error", status_code=500)
        return super().response(exc)

    def content(self, exc: HTTPException) -> Any:
        """``{"detail": ...}`` for ``exc``."""
        if isinstance(exc, RequestValidationError):
            return {"detail": jsonable_encoder([_fastapi_wording(e) for e in exc.errors])}
        detail: Any = exc.detail
        if detail is None:
            detail = _phrase(exc.status_code)
        elif exc.status_code == 405 and str(detail).endswith("is not allowed here."):
            detail = "Method Not Allowed"
        else:
            detail = _FRAMEWORK_DETAILS.get(detail, detail) if isinstance(detail, str) else detail
        return {"detail": detail}

    def schemas(self) -> tuple[dict[str, Any], str, str]:
        """FastAPI's ``HTTPValidationError`` and ``ValidationError`` schemas."""
        error = {
            "title": "ValidationError",
            "type": "object",
            "properties": {
                "loc": {
                    "title": "Location",
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                },
                "msg": {"title": "Message", "type": "string"},
                "type": {"title": "Error Type", "type": "string"},
                "input": {"title": "Input"},
                "ctx": {"title": "Context", "type": "object"},
            },
            "required": ["loc", "msg", "type"],
        }
        validation = {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {
                "detail": {
                    "title": "Detail",
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ValidationError"},
                }
            },
        }
        http_error = {
            "title": "HTTPError",
            "type": "object",
            "properties": {"detail": {"title": "Detail"}},
            "required": ["detail"],
        }
        schemas = {
            "HTTPError": http_error,
            "HTTPValidationError": validation,
            "ValidationError": error,
        }
        return schemas, "HTTPError", "HTTPValidationError"


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
