"""The routes that serve the OpenAPI document, Swagger UI and ReDoc.

The UIs' JavaScript and CSS come from PyPI packages that ship them, found on disk
without importing them, and are served by the app itself, so the pages work with no
internet connection. nightowl carries none of that code:

* Swagger UI 5: ``swagger-ui-bundle-v2`` (a dependency of nightowl), or
  ``drf-spectacular-sidecar``.
* ReDoc: ``drf-spectacular-sidecar`` (in the ``nightowl[docs]`` extra).

When no package provides a UI, its page loads the files from a public CDN instead.
The pages carry no inline script, so they work under a strict Content-Security-Policy.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nightowl.exceptions import HTTPException, ImproperlyConfigured
from nightowl.requests import Request
from nightowl.responses import HTMLResponse, Response
from nightowl.routing import Route, RouteOptions

if TYPE_CHECKING:
    from nightowl.openapi._source import DocumentedApp

__all__ = ["REDOC_CDN", "SWAGGER_CDN", "docs_routes", "find_redoc", "find_swagger_ui"]

#: Where the pages load the UIs from when no installed package ships them.
SWAGGER_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
REDOC_CDN = "https://cdn.jsdelivr.net/npm/redoc@2/bundles"

_SWAGGER_FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "oauth2-redirect.html",
    "oauth2-redirect.js",
    "favicon-32x32.png",
)
# (package, folder inside it; a trailing * picks the newest matching folder)
_SWAGGER_SOURCES = (
    ("swagger_ui_bundle", "vendor/swagger-ui-*"),
    ("drf_spectacular_sidecar", "static/drf_spectacular_sidecar/swagger-ui-dist"),
)
_REDOC_SOURCES = (("drf_spectacular_sidecar", "static/drf_spectacular_sidecar/redoc/bundles"),)

_SWAGGER_INIT = """\
(function () {
  var node = document.getElementById("swagger-ui");
  var settings = {
    url: node.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    oauth2RedirectUrl: new URL(node.dataset.oauth2RedirectUrl, window.location.href).href,
    layout: "BaseLayout"
  };
  Object.assign(settings, JSON.parse(node.dataset.parameters || "{}"));
  settings.presets = [SwaggerUIBundle.presets.apis];
  window.ui = SwaggerUIBundle(settings);
})();
"""


def _package_folder(package: str, folder: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)  # finds the package without importing it
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    if folder.endswith("*"):
        found = sorted(root.glob(folder), key=lambda p: _version_key(p.name))
        return found[-1] if found else None
    path = root / folder
    return path if path.is_dir() else None


def _version_key(name: str) -> tuple[int, ...]:
    digits = name.rsplit("-", 1)[-1].split(".")
    return tuple(int(d) if d.isdigit() else -1 for d in digits)


def find_swagger_ui() -> Path | None:
    """The folder of an installed Swagger UI 5 distribution, or ``None``."""
    for package, folder in _SWAGGER_SOURCES:
        path = _package_folder(package, folder)
        if path is not None and (path / "swagger-ui-bundle.js").is_file():
            return path
    return None


def find_redoc() -> Path | None:
    """The folder holding an installed ``redoc.standalone.js``, or ``None``."""
    for package, folder in _REDOC_SOURCES:
        path = _package_folder(package, folder)
        if path is not None and (path / "redoc.standalone.js").is_file():
            return path
    return None


def _options(name: str) -> RouteOptions:
    return {"include_in_schema": False, "name": name}


def _assets_route(prefix: str, files: Mapping[str, Path | str], name: str) -> Route:
    """``{prefix}/assets/{name}``: the named files only, so nothing else on disk is reachable."""

    async def asset(file: str) -> Response:
        found = files.get(file)
        if found is None:
            raise HTTPException(404, "No such documentation asset.")
        if isinstance(found, str):
            return Response(found, media_type="text/javascript")
        from nightowl.responses import FileResponse  # documentation assets only

        return FileResponse(found, headers={"Cache-Control": "public, max-age=86400"})

    return Route(prefix + "/assets/{file}", asset, ["GET"], _options(name))


# html and json are imported where a page or the document is served: every app builds
# these routes at startup, few ever serve them.


def _page(title: str, head: str, body: str) -> str:
    import html

    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )


def _parameters_attribute(parameters: Mapping[str, Any]) -> str:
    """``App(swagger_ui_parameters=...)`` as a ``data-parameters`` attribute, JSON the
    page's script reads (an attribute, not an inline script, so a strict CSP holds)."""
    if not parameters:
        return ""
    import html
    import json

    try:
        text = json.dumps(dict(parameters))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"swagger_ui_parameters must be JSON values: {exc}") from exc
    return " data-parameters='" + html.escape(text, quote=False).replace("'", "&#x27;") + "'"


def _swagger_routes(app: DocumentedApp, docs_url: str, openapi_url: str) -> list[Route]:
    prefix = docs_url.rstrip("/")
    folder = find_swagger_ui()
    files: dict[str, Path | str] = {"nightowl-swagger.js": _SWAGGER_INIT}
    if folder is not None:
        files.update({f: folder / f for f in _SWAGGER_FILES if (folder / f).is_file()})
        base = prefix + "/assets"
    else:
        base = SWAGGER_CDN

    parameters = _parameters_attribute(app.swagger_ui_parameters)

    async def swagger_ui(request: Request) -> Response:
        import html

        root = request.scope.get("root_path", "")
        assets = (root + base) if folder is not None else base
        head = (
            f'<link rel="stylesheet" href="{html.escape(assets)}/swagger-ui.css">\n'
            f'<link rel="icon" type="image/png" href="{html.escape(assets)}/favicon-32x32.png">\n'
        )
        body = (
            f'<div id="swagger-ui" data-openapi-url="{html.escape(root + openapi_url)}" '
            f'data-oauth2-redirect-url="{html.escape(assets)}/oauth2-redirect.html"'
            f"{parameters}></div>\n"
            f'<script src="{html.escape(assets)}/swagger-ui-bundle.js"></script>\n'
            f'<script src="{html.escape(root + prefix)}/assets/nightowl-swagger.js"></script>\n'
        )
        return HTMLResponse(_page(f"{app.title} - Swagger UI", head, body))

    return [
        Route(docs_url, swagger_ui, ["GET"], _options("nightowl.docs")),
        _assets_route(prefix, files, "nightowl.docs.assets"),
    ]


def _redoc_routes(app: DocumentedApp, redoc_url: str, openapi_url: str) -> list[Route]:
    prefix = redoc_url.rstrip("/")
    folder = find_redoc()
    files: dict[str, Path | str] = {}
    if folder is not None:
        files["redoc.standalone.js"] = folder / "redoc.standalone.js"

    async def redoc(request: Request) -> Response:
        import html

        root = request.scope.get("root_path", "")
        script = (
            f"{root}{prefix}/assets/redoc.standalone.js"
            if folder is not None
            else f"{REDOC_CDN}/redoc.standalone.js"
        )
        body = (
            f'<redoc spec-url="{html.escape(root + openapi_url)}"></redoc>\n'
            f'<script src="{html.escape(script)}"></script>\n'
        )
        return HTMLResponse(_page(f"{app.title} - ReDoc", "", body))

    routes = [Route(redoc_url, redoc, ["GET"], _options("nightowl.redoc"))]
    if files:
        routes.append(_assets_route(prefix, files, "nightowl.redoc.assets"))
    return routes


def _openapi_route(app: DocumentedApp, openapi_url: str) -> Route:
    cache: list[tuple[Any, bytes]] = []

    async def openapi_json() -> Response:
        document = app.openapi()
        if not cache or cache[0][0] is not document:
            import json

            cache[:] = [(document, json.dumps(document, ensure_ascii=False).encode())]
        return Response(cache[0][1], media_type="application/json")

    return Route(openapi_url, openapi_json, ["GET"], _options("nightowl.openapi"))


def docs_routes(app: DocumentedApp) -> list[Route]:
    """The routes for ``app.openapi_url``, ``app.docs_url`` and ``app.redoc_url`` (``None``
    turns one off; without the document there are no UIs either)."""
    openapi_url: str | None = app.openapi_url
    if openapi_url is None:
        return []
    routes = [_openapi_route(app, openapi_url)]
    builders: list[tuple[str | None, Callable[[DocumentedApp, str, str], list[Route]]]] = [
        (app.docs_url, _swagger_routes),
        (app.redoc_url, _redoc_routes),
    ]
    for url, build in builders:
        if url is not None:
            routes.extend(build(app, url, openapi_url))
    return routes
