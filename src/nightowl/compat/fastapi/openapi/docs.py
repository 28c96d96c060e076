"""``fastapi.openapi.docs``: Swagger UI and ReDoc pages for apps that serve their own.

nightowl serves ``/docs`` and ``/redoc`` itself, from local copies and without inline
scripts; these functions are for code moved from FastAPI that turns those off
(``docs_url=None``) and builds the pages from CDN URLs, as FastAPI's tutorials do.
"""

from __future__ import annotations

import html
import json
from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.openapi._docs import find_swagger_ui
from nightowl.responses import HTMLResponse

__all__ = ["get_redoc_html", "get_swagger_ui_html", "get_swagger_ui_oauth2_redirect_html"]

_SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
_SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
_REDOC_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"


def _json(value: Any) -> str:
    return json.dumps(value).replace("</", "<\\/")  # nothing in it can end the script


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = _SWAGGER_JS,
    swagger_css_url: str = _SWAGGER_CSS,
    swagger_favicon_url: str = "",
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """A Swagger UI page for the document at ``openapi_url``, its files from the given URLs."""
    options: dict[str, Any] = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        **(swagger_ui_parameters or {}),
    }
    if oauth2_redirect_url:
        options["oauth2RedirectUrl"] = oauth2_redirect_url
    settings = _json(options)[:-1]  # the presets are JavaScript, not JSON
    presets = "[SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]"
    script = f'const ui = SwaggerUIBundle({settings}, "presets": {presets}}});'
    if init_oauth:
        script += f"\nui.initOAuth({_json(init_oauth)});"
    favicon = (
        f'<link rel="shortcut icon" href="{_attr(swagger_favicon_url)}">'
        if swagger_favicon_url
        else ""
    )
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<link type="text/css" rel="stylesheet" href="{_attr(swagger_css_url)}">\n{favicon}\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        '<div id="swagger-ui"></div>\n'
        f'<script src="{_attr(swagger_js_url)}"></script>\n'
        f"<script>\n{script}\n</script>\n</body>\n</html>\n"
    )
    return HTMLResponse(page)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = _REDOC_JS,
    redoc_favicon_url: str = "",
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """A ReDoc page for the document at ``openapi_url`` (no web fonts are fetched)."""
    favicon = (
        f'<link rel="shortcut icon" href="{_attr(redoc_favicon_url)}">' if redoc_favicon_url else ""
    )
    page = (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<title>{html.escape(title)}</title>\n<meta charset="utf-8"/>\n{favicon}\n</head>\n'
        f'<body>\n<redoc spec-url="{_attr(openapi_url)}"></redoc>\n'
        f'<script src="{_attr(redoc_js_url)}"></script>\n</body>\n</html>\n'
    )
    return HTMLResponse(page)


def get_swagger_ui_oauth2_redirect_html() -> HTMLResponse:
    """The page Swagger UI's OAuth2 login returns to, with Swagger UI's own
    ``oauth2-redirect.js`` (from the installed package nightowl serves ``/docs`` from)."""
    folder = find_swagger_ui()
    script = folder / "oauth2-redirect.js" if folder is not None else None
    if script is None or not script.is_file():
        raise ImproperlyConfigured(
            "Swagger UI's oauth2-redirect.js is not installed: pip install swagger-ui-bundle-v2"
        )
    code = script.read_text(encoding="utf-8").replace("</", "<\\/")
    page = (
        '<!doctype html>\n<html lang="en-US">\n<head><title>Swagger UI: OAuth2 Redirect</title>'
        f"</head>\n<body>\n<script>\n{code}\n</script>\n</body>\n</html>\n"
    )
    return HTMLResponse(page)
