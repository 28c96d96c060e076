"""What the OpenAPI document and the docs pages read from an application.

A structural type, so that :mod:`nightowl.openapi` never imports :mod:`nightowl.app`
(the app imports this package to serve ``/openapi.json``, ``/docs`` and ``/redoc``).
The routes come as the app compiled them, so the document reads the same analysed
signatures, plans and response models that serve requests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from nightowl._handlers.compiler import CompiledRoute
from nightowl.problems import ErrorFormat
from nightowl.routing import Route, Router

__all__ = ["DocumentedApp"]


class DocumentedApp(Protocol):
    """The parts of an :class:`~nightowl.App` that its documentation is built from."""

    title: str
    version: str
    description: str
    servers: list[Mapping[str, Any]]
    summary: str | None
    openapi_tags: list[dict[str, Any]]
    contact: dict[str, Any] | None
    license_info: dict[str, Any] | None
    terms_of_service: str | None
    openapi_url: str | None
    docs_url: str | None
    redoc_url: str | None
    error_format: ErrorFormat
    root_path: str
    root_path_in_servers: bool
    generate_unique_id_function: Callable[[Route], str] | None
    separate_input_output_schemas: bool
    swagger_ui_parameters: dict[str, Any]
    webhooks: Router

    def compile_documented(self, route: Route) -> CompiledRoute:
        """A route that is documented but never served (a callback's, a webhook's),
        compiled as the served ones are."""
        ...

    def compiled_routes(self) -> Sequence[CompiledRoute]:
        """Every HTTP route as compiled for serving (the document describes just that)."""
        ...

    def openapi(self) -> dict[str, Any]:
        """The document, built once and cached."""
        ...
