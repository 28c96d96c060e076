"""What a type annotation says, for the machinery and the OpenAPI generator.

The one place that takes ``Optional`` and ``Annotated`` apart and sorts annotations
into kinds (a sequence, a JSON body type, an upload, a response). Only called at
startup, while handlers are compiled and documented.
"""

from __future__ import annotations

import collections.abc
import inspect
import sys
import types
import typing
from typing import Annotated, Any, Union, get_args, get_origin

from nightowl.datastructures import UploadFile
from nightowl.responses import Response

__all__ = [
    "is_body_type",
    "is_bytes",
    "is_sequence",
    "is_untyped",
    "is_upload",
    "mentions_response",
    "split_annotated",
    "strip_annotated",
    "tuple_body",
    "unwrap_optional",
]

_SEQUENCES = (list, set, frozenset, tuple, typing.Sequence)
_CONTAINERS = (list, set, frozenset, tuple, dict, collections.abc.Mapping)
_MAPPINGS = (dict, collections.abc.Mapping)
#: Return annotations that say nothing worth validating or documenting.
_UNTYPED = (Any, object, dict, list, bytes, type(None), None, inspect.Signature.empty)
#: Results sent as they are, never validated: ``typing.Iterator[...]`` has origin abc.Iterator.
_STREAMS = (
    collections.abc.Awaitable,
    collections.abc.Coroutine,
    collections.abc.Iterable,
    collections.abc.Iterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncIterator,
    collections.abc.Generator,
    collections.abc.AsyncGenerator,
)


def _is_union(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin is Union or origin is types.UnionType


def unwrap_optional(annotation: Any) -> Any:
    """``X`` for ``X | None`` (and ``Optional[X]``); anything else unchanged."""
    if _is_union(annotation):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def split_annotated(annotation: Any) -> tuple[Any, list[Any]]:
    """``(X, [metadata...])`` for ``Annotated[X, ...]``; ``(annotation, [])`` otherwise."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return base, list(metadata)
    return annotation, []


def strip_annotated(annotation: Any) -> Any:
    """``X`` for ``Annotated[X, ...]``; anything else unchanged."""
    return split_annotated(annotation)[0]


def is_sequence(annotation: Any) -> bool:
    """True for ``list[int]``, ``set[str]``, ``tuple[int, ...]`` (and their Optionals)."""
    inner = unwrap_optional(annotation)
    return get_origin(inner) in _SEQUENCES or inner in (list, set, tuple)


def _is_pydantic_model(cls: type) -> bool:
    # A model class exists only once pydantic is imported: checking sys.modules spares
    # apps without models the cost of importing pydantic's model machinery.
    main = sys.modules.get("pydantic.main")
    return main is not None and issubclass(cls, main.BaseModel)


def _is_dataclass(cls: type) -> bool:
    # Likewise a dataclass exists only once dataclasses is imported.
    dataclasses = sys.modules.get("dataclasses")
    return dataclasses is not None and dataclasses.is_dataclass(cls)


def _is_typeddict(cls: type) -> bool:
    # typing_extensions' TypedDict (its own class before Python 3.13) needs its own check,
    # and exists only once typing_extensions is imported.
    if typing.is_typeddict(cls):
        return True
    extensions = sys.modules.get("typing_extensions")
    return extensions is not None and bool(extensions.is_typeddict(cls))


def is_body_type(annotation: Any) -> bool:
    """True for types read from a JSON body: models, dataclasses, TypedDicts, any ``dict``,
    and lists of those."""
    inner = strip_annotated(unwrap_optional(annotation))
    if inner is dict or get_origin(inner) in _MAPPINGS:
        return True  # a query string cannot carry a mapping: ``data: dict`` is the JSON body
    if inspect.isclass(inner):
        return _is_pydantic_model(inner) or _is_dataclass(inner) or _is_typeddict(inner)
    if get_origin(inner) in _CONTAINERS:
        args = get_args(inner)
        return bool(args) and is_body_type(args[-1])
    return False


def is_bytes(annotation: Any) -> bool:
    """True for ``bytes`` and containers of it (``list[bytes]``): a file read whole."""
    return annotation is bytes or get_args(annotation) == (bytes,)


def is_upload(annotation: Any) -> bool:
    """True for ``UploadFile`` and sequences of it (and their Optionals)."""
    inner = unwrap_optional(annotation)
    if get_origin(inner) in (list, tuple, set):
        args = get_args(inner)
        return bool(args) and is_upload(args[0])
    return inspect.isclass(inner) and issubclass(inner, UploadFile)


def mentions_response(annotation: Any) -> bool:
    """True when a handler returning ``annotation`` returns a ``Response`` or a stream,
    which is sent as it is (so there is no response model)."""
    if inspect.isclass(annotation) and issubclass(annotation, Response):
        return True
    if _is_union(annotation):
        return any(mentions_response(arg) for arg in get_args(annotation))
    return get_origin(annotation) in _STREAMS


def tuple_body(annotation: Any) -> Any:
    """``Body`` for a Flask-style ``tuple[Body, int]`` return annotation; anything else
    unchanged."""
    if get_origin(annotation) is tuple and get_args(annotation):
        return get_args(annotation)[0]
    return annotation


def is_untyped(annotation: Any) -> bool:
    """True for return annotations with nothing to validate or filter: none at all,
    ``dict``, ``dict[str, Any]``, ``list[Any]``... (``-> int`` and ``-> dict[str, str]``
    are validated and documented, as any other type)."""
    if annotation in _UNTYPED:
        return True
    origin = get_origin(annotation)
    if origin not in (dict, list, collections.abc.Mapping, collections.abc.Sequence):
        return False
    args = get_args(annotation)
    return not args or args[-1] in (Any, object)
