"""What the OpenAPI document and the docs pages read from an application.

A structural type, so that :mod:`nightowl.openapi` never imports :mod:`nightowl.app`
(the app imports this package to serve ``/openapi.json``, ``/docs`` and ``/redoc``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from nightowl.routing import Route, WebSocketRoute

__all__ = ["DocumentedApp"]


class DocumentedApp(Protocol):
    """The parts of an :class:`~nightowl.App` that its documentation is built from."""

    title: str
    version: str
    description: str
    servers: list[Mapping[str, Any]]
    openapi_url: str | None
    docs_url: str | None
    redoc_url: str | None

    @property
    def providers(self) -> Mapping[Any, Callable[..., Any]]: ...

    def iter_routes(self) -> Iterator[Route | WebSocketRoute]: ...

    def openapi(self) -> dict[str, Any]: ...
