"""``fastapi.templating``: ``Jinja2Templates`` on nightowl's ``Templates``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from nightowl.requests import Request
from nightowl.responses import HTMLResponse
from nightowl.templating import Templates

__all__ = ["Jinja2Templates"]


@jinja2.pass_context
def _absolute_url_for(context: Any, name: str, /, **params: Any) -> str:
    request: Request = context["request"]
    origin = str(request.url.replace(path="", query="", fragment=""))
    return origin + request.url_for(name, **params)  # url_for carries the root path


class Jinja2Templates(Templates):
    """FastAPI's (Starlette's) ``Jinja2Templates(directory="templates")`` with
    ``TemplateResponse(request, name, context)``; ``url_for`` in templates gives absolute
    URLs, as Starlette's does."""

    def __init__(self, directory: Any = None, **options: Any) -> None:
        super().__init__(directory, **options)
        self.env.globals["url_for"] = _absolute_url_for

    def TemplateResponse(
        self,
        request: Request | str,
        name: str | Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> HTMLResponse:
        """Render ``name`` with ``context`` (``request`` is in it). The old order,
        ``TemplateResponse(name, {"request": request, ...})``, works too."""
        if isinstance(request, str):  # TemplateResponse(name, context)
            template, values = request, dict(name) if isinstance(name, Mapping) else {}
            found = values.get("request")
        else:
            template, values, found = str(name), dict(context or {}), request
        return self.response(
            template,
            found,
            values,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
        )
