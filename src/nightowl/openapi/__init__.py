"""OpenAPI 3.1 from the code: the document, and the pages that show it.

An :class:`~nightowl.App` serves ``/openapi.json``, Swagger UI at ``/docs`` and ReDoc at
``/redoc`` (see ``App(openapi_url=, docs_url=, redoc_url=)``); ``app.openapi()`` returns
the document as a dict. This package is imported only when one of those is first used.

::

    from nightowl.openapi import render_document

    print(render_document(app))             # JSON
    print(render_document(app, yaml=True))  # YAML (needs PyYAML: nightowl[docs])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from nightowl._lazy import lazy_attributes
from nightowl.openapi._docs import docs_routes, find_redoc, find_swagger_ui

if TYPE_CHECKING:
    from nightowl.openapi._document import OPENAPI_VERSION, build_document
    from nightowl.openapi._source import DocumentedApp

__all__ = [
    "OPENAPI_VERSION",
    "build_document",
    "docs_routes",
    "find_redoc",
    "find_swagger_ui",
    "render_document",
]


def render_document(app: DocumentedApp, yaml: bool = False) -> str:
    """``app``'s OpenAPI document as text: indented JSON, or YAML when ``yaml`` is true.

    This is what ``nightowl openapi app:app [--yaml]`` prints.

    Raises:
        RuntimeError: ``yaml=True`` and PyYAML is not installed.
    """
    document = app.openapi()
    if not yaml:
        import json

        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        pyyaml = importlib.import_module("yaml")
    except ImportError:
        raise RuntimeError(
            "Writing YAML needs PyYAML: pip install 'nightowl[docs]' (or pyyaml)."
        ) from None
    text: str = pyyaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return text


# Every app compiles docs_routes at startup; the document builder (and pydantic's JSON
# Schema machinery behind it) loads only when the document is first asked for.
__getattr__ = lazy_attributes(
    __name__,
    {
        "OPENAPI_VERSION": "nightowl.openapi._document",
        "build_document": "nightowl.openapi._document",
    },
)
