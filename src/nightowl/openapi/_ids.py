"""The operationIds of the document: unique, stable, and the user's when they give them."""

from __future__ import annotations

import re
from collections.abc import Callable

from nightowl.exceptions import ImproperlyConfigured
from nightowl.routing import Route

__all__ = ["identifier", "operation_ids"]

IdFunction = Callable[[Route], str]


def operation_ids(
    routes: list[Route], default_function: IdFunction | None = None
) -> dict[tuple[Route, str], str]:
    """A unique, stable id per (route, method): the route's ``operation_id``, else what
    its ``generate_unique_id_function`` (or ``default_function``) makes of it, else the
    handler's name where that is unique."""
    wanted: dict[tuple[Route, str], str] = {}
    explicit: dict[str, Route] = {}
    for route in routes:
        given = route.options.get("operation_id") or _generated(route, default_function)
        for method in route.methods:
            if given:
                op_id = given if len(route.methods) == 1 else f"{given}_{method.lower()}"
                if op_id in explicit and explicit[op_id] is not route:
                    raise ImproperlyConfigured(
                        f"operation_id {op_id!r} is used by more than one route."
                    )
                explicit[op_id] = route
            else:
                op_id = identifier(route.name)
                if len(route.methods) > 1:
                    op_id += "_" + method.lower()
            wanted[(route, method)] = op_id
    counts: dict[str, int] = {}
    for op_id in wanted.values():
        counts[op_id] = counts.get(op_id, 0) + 1
    result: dict[tuple[Route, str], str] = {}
    for (route, method), op_id in wanted.items():
        if counts[op_id] > 1 and op_id not in explicit:
            # Same handler name twice: qualify by method and path, which the table keeps unique.
            op_id = identifier(f"{route.name}_{method.lower()}_{route.template.format}")
        result[(route, method)] = op_id
    return result


def _generated(route: Route, default_function: IdFunction | None) -> str | None:
    function = route.options.get("generate_unique_id_function", default_function)
    if function is None:
        return None
    op_id = function(route)
    if not isinstance(op_id, str) or not op_id:
        raise ImproperlyConfigured(
            f"generate_unique_id_function returned {op_id!r} for {route!r}: it must "
            "return a non-empty string."
        )
    return op_id


def identifier(text: str) -> str:
    """``text`` as an identifier: letters, digits and single underscores."""
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", text)).strip("_") or "operation"
