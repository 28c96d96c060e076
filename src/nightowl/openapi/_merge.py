"""Merging a route's ``openapi_extra`` into the operation the document built for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["merge"]


def merge(target: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``extra`` into ``target`` in place, key by key: mappings merge recursively,
    a list extends the list already there (``"parameters": [...]`` adds parameters), and
    anything else replaces what was there."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merge(current, value)
        elif isinstance(value, Mapping):
            target[key] = merge({}, value)
        elif isinstance(value, list) and isinstance(current, list):
            target[key] = current + value
        else:
            target[key] = value
    return target
