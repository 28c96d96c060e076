"""Handlers that are generators: what they yield is the response, sent as it comes.

``async def items() -> AsyncIterable[Item]: yield ...`` (or a plain ``def`` generator)
streams: as JSON Lines (``application/jsonl``, one JSON document per line, each item
validated through ``Item``) by default; through the route's ``response_class`` when it
is a :class:`~nightowl.responses.StreamingResponse` (``EventSourceResponse`` sends
server-sent events, ``StreamingResponse`` the yielded text or bytes). A generator
annotated ``-> AsyncIterable[ServerSentEvent]`` sends its events as they are, as an
``EventSourceResponse`` unless the route names another class.
"""

from __future__ import annotations

import collections.abc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, get_args, get_origin

from nightowl._handlers.annotations import is_untyped
from nightowl.responses import JSONResponse, Response, StreamingResponse, dump_json
from nightowl.sse import ServerSentEvent

__all__ = [
    "JSON_LINES",
    "item_serializer",
    "stream_item_type",
    "stream_response",
    "streams_events",
]

JSON_LINES = "application/jsonl"

_ITERABLES = (
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.Generator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
)


def stream_item_type(return_annotation: Any) -> Any:
    """``Item`` for ``AsyncIterable[Item]``, ``Iterator[Item]``...; ``None`` when the
    annotation names no item type worth validating (``ServerSentEvent``s are sent as
    they are)."""
    if get_origin(return_annotation) in _ITERABLES and get_args(return_annotation):
        item = get_args(return_annotation)[0]
        return None if is_untyped(item) or _is_event_type(item) else item
    return None


def _is_event_type(item: Any) -> bool:
    return isinstance(item, type) and issubclass(item, ServerSentEvent)


def streams_events(return_annotation: Any) -> bool:
    """Whether the generator is annotated as yielding ``ServerSentEvent``s
    (``-> AsyncIterable[ServerSentEvent]``): its response is an event stream."""
    args = get_args(return_annotation)
    return get_origin(return_annotation) in _ITERABLES and bool(args) and _is_event_type(args[0])


def item_serializer(return_annotation: Any) -> Callable[[Any], bytes]:
    """JSON for one yielded item: through the item type of ``AsyncIterable[Item]``
    (validated, written by alias), or as it is when the annotation names none."""
    item = stream_item_type(return_annotation)
    if item is None:
        return dump_json
    from pydantic import TypeAdapter

    adapter = TypeAdapter(item)
    validate = adapter.validator.validate_python
    to_json = adapter.serializer.to_json

    def serialize(value: Any) -> bytes:
        return to_json(validate(value, from_attributes=True), by_alias=True)

    return serialize


def stream_response(
    result: Any,
    response_class: type[Response],
    status_code: int,
    serialize: Callable[[Any], bytes],
) -> Response:
    """The response that sends what the generator ``result`` yields."""
    if response_class is JSONResponse:
        lines = (
            _async_lines(result, serialize)
            if isinstance(result, collections.abc.AsyncIterator)
            else _lines(result, serialize)
        )
        return StreamingResponse(lines, status_code=status_code, media_type=JSON_LINES)
    return response_class(result, status_code=status_code)


def _lines(items: Iterator[Any], serialize: Callable[[Any], bytes]) -> Iterator[bytes]:
    for item in items:
        yield serialize(item) + b"\n"


async def _async_lines(
    items: AsyncIterator[Any], serialize: Callable[[Any], bytes]
) -> AsyncIterator[bytes]:
    async for item in items:
        yield serialize(item) + b"\n"
