"""``fastapi._compat``: the one name of FastAPI's private module that its tests import."""

from __future__ import annotations

import pydantic

__all__ = ["PYDANTIC_VERSION_MINOR_TUPLE"]

#: pydantic's ``(major, minor)`` version.
PYDANTIC_VERSION_MINOR_TUPLE: tuple[int, int] = tuple(  # type: ignore[assignment]
    int(part) for part in pydantic.VERSION.split(".")[:2]
)
