"""How error responses are written: one :class:`ErrorFormat` per app, RFC 9457 by default.

Every error nightowl answers with goes through the app's format: ``HTTPException`` and
its subclasses raised by handlers, validation errors (422), malformed or oversized bodies
(400, 413, 415), the app's own 404 and 405, the batteries' errors (the database's 409 and
503, CSRF's 403, auth's 401, 403 and 429), and the 400 and 404 of built-in middleware and
static files. The OpenAPI document describes the shape the format writes.

Choose another shape with one function from the exception to the body::

    app = App(error_format=lambda exc: {"error": exc.detail, "code": exc.status_code})

or, to name the media type and document the shape, an :class:`ErrorFormat` subclass::

    class Envelope(ErrorFormat):
        media_type = "application/json"

        def content(self, exc):
            return {"error": {"status": exc.status_code, "message": exc.detail}}

        def schemas(self):
            return {"Error": {...}}, "Error", "Error"

A handler registered with ``@app.exception_handler`` still comes first, for its class or
status; the format writes everything no handler takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nightowl._logging import REQUEST_ID
from nightowl.exceptions import HTTPException
from nightowl.responses import JSONResponse, Response
from nightowl.types import Scope

__all__ = ["SERVER_ERROR_DETAIL", "ErrorFormat", "error_format_of", "error_response"]

#: The detail of the 500 that answers an error no handler took (no internals in it).
SERVER_ERROR_DETAIL = "The server could not complete the request."

_REF = "#/components/schemas/{}"


class ErrorFormat:
    """RFC 9457 problem details (``application/problem+json``): nightowl's default.

    ``{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "..."}``, and
    for a 422 an ``errors`` list of ``{"loc", "msg", "type"}`` (never the input values, which
    may be passwords). Subclass and override :meth:`content` (and :attr:`media_type`,
    :meth:`schemas`) for another shape, or pass ``App(error_format=function)``.

    Args:
        content: a function ``exc -> body`` replacing :meth:`content`.
        media_type: the ``Content-Type`` of error responses.
    """

    media_type = "application/problem+json"

    def __init__(
        self,
        content: Callable[[HTTPException], Any] | None = None,
        *,
        media_type: str | None = None,
    ) -> None:
        self._content = content
        if media_type is not None:
            self.media_type = media_type
        elif content is not None:
            self.media_type = "application/json"

    def content(self, exc: HTTPException) -> Any:
        """The body for ``exc``, as data :func:`nightowl.responses.dump_json` serialises."""
        if self._content is not None:
            return self._content(exc)
        problem = exc.to_problem()
        request_id = REQUEST_ID.get()
        if request_id != "-":  # the request's id, to find its log lines
            problem.setdefault("request_id", request_id)
        return problem

    def response(self, exc: HTTPException) -> Response:
        """The whole response for ``exc``: its status and headers, this format's body."""
        return JSONResponse(
            self.content(exc),
            status_code=exc.status_code,
            headers=exc.headers,
            media_type=self.media_type,
        )

    def schemas(self) -> tuple[dict[str, Any], str, str]:
        """What OpenAPI says about the shape: ``(named schemas, the name of an error's
        schema, the name of a validation error's schema)``. The named schemas go into
        ``components/schemas``."""
        if self._content is not None:
            generic = {"title": "Error", "description": "An error response.", "type": "object"}
            return {"Error": generic}, "Error", "Error"
        return dict(_PROBLEM_SCHEMAS), "ProblemDetails", "ValidationProblem"

    def describe(self, description: str, *, validation: bool = False) -> dict[str, Any]:
        """An OpenAPI Response Object for an error of this format."""
        _, error, invalid = self.schemas()
        name = invalid if validation else error
        return {
            "description": description,
            "content": {self.media_type: {"schema": {"$ref": _REF.format(name)}}},
        }


#: The format of apps that do not choose one.
DEFAULT_FORMAT = ErrorFormat()


def error_format_of(scope: Scope) -> ErrorFormat:
    """The error format of the app serving ``scope`` (the default outside an app)."""
    found = getattr(scope.get("app"), "error_format", None)
    return found if isinstance(found, ErrorFormat) else DEFAULT_FORMAT


def error_response(
    scope: Scope,
    status_code: int,
    detail: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error response in the format of the app serving ``scope``: for ASGI middleware
    and mounted apps, which answer without going through the app's exception handlers."""
    return error_format_of(scope).response(HTTPException(status_code, detail, headers))


def _problem_schemas() -> dict[str, Any]:
    problem = {
        "type": "object",
        "title": "ProblemDetails",
        "description": "An RFC 9457 problem: what went wrong with a request.",
        "properties": {
            "type": {
                "type": "string",
                "description": "A URI reference identifying the problem type.",
                "default": "about:blank",
            },
            "title": {"type": "string", "description": "A short summary of the problem type."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "An explanation of this occurrence."},
            "instance": {"type": "string", "description": "A URI reference for this occurrence."},
        },
        "required": ["type", "title", "status"],
        "additionalProperties": True,
    }
    error = {
        "type": "object",
        "title": "ValidationErrorItem",
        "description": "One problem with one input value.",
        "properties": {
            "loc": {
                "type": "array",
                "description": "Where: the source (path, query, header, cookie, body), then keys.",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["loc", "msg", "type"],
    }
    validation = {
        "title": "ValidationProblem",
        "description": "A 422 problem listing every input that did not validate.",
        "allOf": [
            {"$ref": _REF.format("ProblemDetails")},
            {
                "type": "object",
                "properties": {
                    "errors": {
                        "type": "array",
                        "items": {"$ref": _REF.format("ValidationErrorItem")},
                    }
                },
                "required": ["errors"],
            },
        ],
    }
    return {
        "ProblemDetails": problem,
        "ValidationErrorItem": error,
        "ValidationProblem": validation,
    }


_PROBLEM_SCHEMAS: Mapping[str, Any] = _problem_schemas()
