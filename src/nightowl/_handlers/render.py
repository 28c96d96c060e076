"""Turn what a handler returns into a response, filtered through its response model.

The model and its validator and serializer are settled at startup; per request, a
:class:`Renderer` only validates and serialises.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from nightowl._handlers.annotations import is_untyped, mentions_response, tuple_body
from nightowl._logging import printable
from nightowl._pydantic_ext import ValidationError
from nightowl.exceptions import ImproperlyConfigured, ResponseValidationError
from nightowl.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    dump_json,
)
from nightowl.types import MISSING

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["Renderer", "response_model_from"]

logger = logging.getLogger("nightowl.error")


def response_model_from(return_annotation: Any, response_model: Any) -> Any:
    """The model that filters and documents a handler's output, or ``None`` for no filtering."""
    if response_model is not MISSING:
        return response_model
    annotation = tuple_body(return_annotation)
    if is_untyped(annotation) or mentions_response(annotation):
        return None
    return annotation


class Renderer:
    """Builds the response for one route from whatever its handler returned.

    Args:
        response_model: a type to validate and filter the result through, or ``None``.
        response_class: the class for results that are not already responses.
        status_code: the status for results that do not carry their own.
        where: the handler's name, for error messages.
        serialization: how the response model writes its output: pydantic's ``include``,
            ``exclude``, ``by_alias`` (true unless given), ``exclude_unset``,
            ``exclude_defaults`` and ``exclude_none``.
        status_given: whether the route set ``status_code``; a ``RedirectResponse``
            class keeps its own 307 when it did not.
        stream: for a generator handler, how each yielded item becomes JSON: the result
            is then streamed (see :mod:`~nightowl._handlers.streams`).
    """

    __slots__ = (
        "_exact",
        "_stream_response",
        "_to_json",
        "_validate",
        "adapter",
        "model",
        "plain_json",
        "response_class",
        "serialization",
        "status_code",
        "status_given",
        "stream",
    )

    def __init__(
        self,
        response_model: Any,
        response_class: type[Response],
        status_code: int,
        where: str,
        *,
        serialization: Mapping[str, Any] | None = None,
        status_given: bool = True,
        stream: Callable[[Any], bytes] | None = None,
    ) -> None:
        self.model = response_model
        self.response_class = response_class
        self.status_code = status_code
        self.status_given = status_given
        self.serialization = {"by_alias": True, **(serialization or {})}
        self.adapter: TypeAdapter[Any] | None = None
        self._to_json: Callable[[Any], bytes] = dump_json
        self._validate: Callable[..., Any] | None = None
        self._exact: Any = None
        if response_model is not None:
            # Imported here: pydantic's model machinery is loaded only by apps that use it.
            from pydantic import TypeAdapter

            try:
                self.adapter = TypeAdapter(response_model)
            except Exception as exc:
                raise ImproperlyConfigured(
                    f"{where}: {response_model!r} cannot be used as a response model ({exc}). "
                    "Pass response_model=None to turn filtering off."
                ) from exc
            # The core validator and serializer, without TypeAdapter's per-call wrappers.
            self._to_json = functools.partial(self.adapter.serializer.to_json, **self.serialization)
            self._validate = self.adapter.validator.validate_python
            # Only a pydantic model's or dataclass's own instances may skip validation: an
            # ORM model documented through a derived schema (``-> Post``) must go through
            # that schema, or unloaded columns would be missing from the output.
            if _is_schema_class(response_model):
                self._exact = response_model
        self.stream = stream
        if stream is not None:
            # Imported here: only generator handlers stream, and they are compiled at startup.
            from nightowl._handlers.streams import stream_response

            self._stream_response = stream_response
        #: JSON responses with no empty-body statuses: json_body() can answer directly.
        self.plain_json = (
            response_class is JSONResponse
            and status_code >= 200
            and status_code not in (204, 304)
            and stream is None
        )

    def json_body(self, result: Any) -> bytes | None:
        """The JSON body for an ordinary result, or ``None`` when :meth:`__call__` must build
        a full response (a ``Response``, a tuple, a non-JSON response class)."""
        if not self.plain_json or type(result) is tuple or isinstance(result, Response):
            return None
        if self._validate is None:
            return dump_json(result)
        return self._filtered_json(result)

    def __call__(self, result: Any) -> Response:
        """The response for ``result``."""
        if isinstance(result, Response):
            return result
        if self.stream is not None:
            return self._stream_response(result, self.response_class, self.status_code, self.stream)
        status_code = self.status_code
        headers = None
        if type(result) is tuple:
            result, status_code, headers = _unpack_tuple(result, status_code)
            if isinstance(result, Response):
                result.status_code = status_code
                if headers:
                    for key, value in headers.items():
                        result.headers[key] = value
                return result
        response = self.make(result, status_code)
        if headers:
            for key, value in headers.items():
                response.headers[key] = value
        return response

    def make(self, content: Any, status_code: int) -> Response:
        """Serialise ``content`` with the response class, through the model when there is one."""
        response_class = self.response_class
        if response_class is JSONResponse:
            if content is None and (status_code == 204 or status_code == 304 or status_code < 200):
                return _raw(Response, b"", status_code, [])
            body = dump_json(content) if self._validate is None else self._filtered_json(content)
            return _raw(
                JSONResponse,
                body,
                status_code,
                [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            )
        if self.adapter is not None and response_class not in (HTMLResponse, PlainTextResponse):
            content = self.adapter.dump_python(
                self._validated(content), mode="json", **self.serialization
            )
        if not self.status_given and issubclass(response_class, RedirectResponse):
            return response_class(content)  # its own status (307), as FastAPI does
        return response_class(content, status_code=status_code)

    def _validated(self, content: Any) -> Any:
        assert self._validate is not None
        try:
            return self._validate(content, from_attributes=True)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            logger.error("Response validation failed: %s", printable(errors))
            raise ResponseValidationError(errors) from None

    def _filtered_json(self, content: Any) -> bytes:
        if type(content) is self._exact:
            return self._to_json(content)  # already an instance of the model: no re-validation
        return self._to_json(self._validated(content))


def _is_schema_class(model: Any) -> bool:
    """True for pydantic models and dataclasses, whose instances serialise as they are."""
    import dataclasses

    from pydantic import BaseModel

    if not isinstance(model, type):
        return False
    if issubclass(model, BaseModel):
        return "__get_pydantic_core_schema__" not in vars(model)
    return dataclasses.is_dataclass(model)


def _raw(
    cls: type[Response], body: bytes, status_code: int, raw_headers: list[tuple[bytes, bytes]]
) -> Response:
    # Skips Response.__init__: the headers are already known, and this is the hot path.
    response = cls.__new__(cls)
    response.status_code = status_code
    response.body = body
    response.background = None
    response.raw_headers = raw_headers
    return response


def _unpack_tuple(
    result: tuple[Any, ...], status_code: int
) -> tuple[Any, int, dict[str, str] | None]:
    """Flask's ``(body, status)``, ``(body, headers)`` and ``(body, status, headers)``."""
    headers: dict[str, str] | None = None
    if len(result) == 3:
        body, status_code, raw = result
        headers = dict(raw)
    elif len(result) == 2:
        body, second = result
        if isinstance(second, int):
            status_code = second
        else:
            headers = dict(second)
    else:
        raise TypeError(
            "A handler returned a tuple of length "
            f"{len(result)}; expected (body, status), (body, headers) or (body, status, headers)."
        )
    return body, status_code, headers
