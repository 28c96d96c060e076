"""``fastapi.middleware``: ``Middleware(cls, **options)`` entries for ``FastAPI(middleware=[...])``."""

from __future__ import annotations

from typing import Any

__all__ = ["Middleware"]


class Middleware:
    """One entry of ``FastAPI(middleware=[...])``: a middleware class and its options,
    added as ``app.add_middleware(cls, *args, **kwargs)``."""

    def __init__(self, cls: Any, *args: Any, **kwargs: Any) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __iter__(self) -> Any:
        return iter((self.cls, self.args, self.kwargs))
