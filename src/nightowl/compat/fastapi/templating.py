"""``fastapi.templating``: ``Jinja2Templates`` on nightowl's ``Templates``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nightowl.requests import Request
from nightowl.responses import HTMLResponse
from nightowl.templating import Templates

__all__ = ["Jinja2Templates"]


class Jinja2Templates(Templates):
    """FastAPI's (Starlette's) ``Jinja2Templates(directory="templates")`` with
    ``TemplateResponse(request, name, context)``."""

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
