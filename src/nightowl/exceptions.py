"""Exceptions that nightowl raises and that users raise to answer with an error."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "HTTPException",
    "ImproperlyConfigured",
    "RequestValidationError",
    "ResponseValidationError",
    "ValidationErrors",
    "WebSocketDisconnect",
    "WebSocketException",
    "status_phrase",
]


@functools.cache
def status_phrase(status_code: int) -> str:
    """Return the standard reason phrase for ``status_code`` ("Not Found" for 404)."""
    from http import HTTPStatus  # once per status code (cached): a hello world never asks

    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
    # RFC 9110 renamed 422; Python's table still has the old WebDAV name.
    return "Unprocessable Content" if status_code == 422 else phrase


class ImproperlyConfigured(Exception):
    """The application is set up in a way that cannot work (raised at startup, never per request)."""


class HTTPException(Exception):
    """Stop handling a request and answer with an RFC 9457 problem.

    ``raise HTTPException(404, "no such user")`` answers::

        {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such user"}

    Args:
        status_code: the HTTP status to answer with.
        detail: a human-readable explanation of this occurrence of the problem.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``...).
        type: a URI identifying the problem type; ``about:blank`` by default.
        title: a short summary; the status phrase by default.
        extra: further members to add to the problem body.
    """

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        type: str = "about:blank",
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        self.type = type
        self.title = title or status_phrase(status_code)
        self.extra = dict(extra) if extra else None
        super().__init__(status_code, detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem body for this exception."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status_code}
        if self.detail is not None:
            body["detail"] = self.detail
        if self.extra:
            body.update(self.extra)
        return body


class ValidationErrors(list[dict[str, Any]]):
    """The errors of a :class:`RequestValidationError`: a list, also callable as FastAPI's
    method is (``exc.errors()`` gives copies whose ``loc`` is a tuple, as there)."""

    def __call__(self) -> list[dict[str, Any]]:
        """The errors as FastAPI's ``exc.errors()`` gives them: ``loc`` a tuple."""
        return [{**error, "loc": tuple(error.get("loc", ()))} for error in self]


class RequestValidationError(HTTPException):
    """The request did not match what the handler declared: a 422.

    Attributes:
        errors: a list of one dict per invalid value: ``loc`` (where: the source, ``path``, ``query``,
            ``header``, ``cookie`` or ``body``, then keys and indexes), ``msg`` (a sentence),
            ``type`` (pydantic's error type, such as ``missing`` or ``int_parsing``), and,
            when known, ``input`` (the value received) and ``ctx`` (the constraint's
            parameters, such as ``{"ge": 1}``).
        body: the request body that failed, when the error is about the body and it was read.

    The default RFC 9457 format lists ``loc``, ``msg`` and ``type`` of each error under
    ``errors``, leaving the input out (it may be a password); a custom format or exception
    handler sees everything.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, body: Any = None) -> None:
        self.errors = ValidationErrors(dict(error) for error in errors)
        self.body = body
        count = len(self.errors)
        detail = f"{count} validation error" + ("s" if count != 1 else "")
        shown = [{key: e[key] for key in _SHOWN if key in e} for e in self.errors]
        super().__init__(422, detail, extra={"errors": shown})


_SHOWN = ("loc", "msg", "type")


class ResponseValidationError(Exception):
    """A handler returned a value that does not fit its declared response model (a server bug)."""

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self.errors = list(errors)
        super().__init__(f"response does not match the response model: {self.errors}")


class WebSocketDisconnect(Exception):
    """The WebSocket client went away (or the handler closed with ``code``)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, reason)


class WebSocketException(Exception):
    """Raise in a WebSocket handler (or its dependencies) to close the connection with ``code``.

    ::

        raise WebSocketException(status.WS_1008_POLICY_VIOLATION, "no token")

    Before the handshake is accepted the server refuses it with this close code; afterwards
    the connection closes with it.

    Args:
        code: a WebSocket close code (``nightowl.status.WS_...``).
        reason: a short text the client receives with the close frame.
    """

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason or ""
        super().__init__(code, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"
