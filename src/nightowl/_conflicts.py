"""Routes that can never answer, found when the app compiles, named with their handlers.

Two routes for the same method and path are a mistake, and so are ``/users/{user_id}`` and
``/users/{uid}``: both match the same URLs, so the second never answers. Both are refused
before the first request, naming the two handlers and where they are defined.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterable
from typing import Any

from nightowl.exceptions import ImproperlyConfigured

__all__ = ["check_routes", "describe_handler"]

_PARAM = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*:([a-z]+)\}")


def check_routes(routes: Iterable[Any]) -> None:
    """Raise :class:`ImproperlyConfigured` when two of ``routes`` answer the same requests.

    ``routes`` have a ``template`` (``PathTemplate``), ``methods`` (WebSocket routes none)
    and an ``endpoint``.
    """
    seen: dict[tuple[str, str], Any] = {}
    for route in routes:
        # The URLs a path matches depend on its converters, not on its parameters' names.
        shape = _PARAM.sub(lambda m: "{:" + m.group(1) + "}", route.template.path)
        for method in getattr(route, "methods", None) or ("WEBSOCKET",):
            first = seen.setdefault((method, shape), route)
            if first is not route:
                raise ImproperlyConfigured(_conflict(method, first, route))


def _conflict(method: str, first: Any, second: Any) -> str:
    shown = "WebSocket" if method == "WEBSOCKET" else method
    if first.template.path == second.template.path:
        return (
            f"Two routes answer {shown} {_path(first)}: {describe_handler(first)} and "
            f"{describe_handler(second)}. Remove one, or give them different methods or paths."
        )
    return (
        f"{shown} {_path(second)} ({describe_handler(second)}) can never answer: "
        f"{shown} {_path(first)} ({describe_handler(first)}) matches the same URLs first. "
        "Use one path for both, or tell them apart with a converter such as "
        "{id:int} or a different prefix."
    )


def _path(route: Any) -> str:
    """The path as its author wrote it (``/users/{user_id}``), prefixes included."""
    return str(getattr(route, "path", None) or route.template.path)


def describe_handler(route_or_handler: Any) -> str:
    """``get_user (app.py, line 12)``: a handler's name and where it is defined."""
    handler = getattr(route_or_handler, "endpoint", route_or_handler)
    view_method = getattr(route_or_handler, "view_method", None)
    if view_method:
        handler = getattr(handler, view_method, handler)
    name = getattr(handler, "__qualname__", None) or getattr(handler, "__name__", repr(handler))
    name = str(name).rsplit("<locals>.", 1)[-1]  # a handler defined in a function
    target = inspect.unwrap(handler) if callable(handler) else handler
    code = getattr(target, "__code__", None)
    if code is None:
        return str(name)
    try:
        filename = os.path.relpath(code.co_filename)
    except ValueError:  # another drive, on Windows
        filename = code.co_filename
    return f"{name} ({filename}, line {code.co_firstlineno})"
