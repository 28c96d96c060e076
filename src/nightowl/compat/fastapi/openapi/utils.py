"""``fastapi.openapi.utils``: ``get_openapi``, the document of a list of routes.

nightowl's apps build their document with ``app.openapi()``; ``get_openapi`` is for
code moved from FastAPI that builds a custom one (``app.openapi = custom_openapi``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.routing import Route, WebSocketRoute

__all__ = ["get_openapi"]


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Sequence[Route | WebSocketRoute],
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    webhooks: Sequence[Route | WebSocketRoute] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    servers: Sequence[Mapping[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: Mapping[str, Any] | None = None,
    license_info: Mapping[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (``app.routes``), as ``app.openapi()`` builds
    it, with the given ``info``. Only OpenAPI 3.1 is written."""
    from nightowl.compat.fastapi.applications import FastAPI

    if openapi_version != "3.1.0":
        raise ImproperlyConfigured(
            f"get_openapi(openapi_version={openapi_version!r}): nightowl writes OpenAPI 3.1.0."
        )
    app = FastAPI(
        title=title,
        version=version,
        summary=summary,
        description=description or "",
        openapi_tags=tags,
        servers=servers,
        terms_of_service=terms_of_service,
        contact=contact,
        license_info=license_info,
        separate_input_output_schemas=separate_input_output_schemas,
        docs_url=None,
        redoc_url=None,
        env_file=None,
    )
    for route in routes:
        _add(app, route)
    for route in webhooks or ():
        _add(app.webhooks, route)
    return app.openapi()


def _add(router: Any, route: Route | WebSocketRoute) -> None:
    if isinstance(route, Route):
        options: dict[str, Any] = dict(route.options)
        if route.view_method is not None:
            raise ImproperlyConfigured(
                "get_openapi() takes function routes; document class-based views with "
                "app.openapi()."
            )
        router.add_route(route.path, route.endpoint, methods=list(route.methods), **options)
