"""FastAPI fortunes page from in-memory rows: ``Jinja2Templates.TemplateResponse``."""

from __future__ import annotations

from operator import attrgetter

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from apps.techempower import ADDITIONAL_FORTUNE, FORTUNE_ROWS, TEMPLATES_DIR, Fortune

NOTES = "async def handler, Jinja2Templates(directory=...).TemplateResponse (autoescape)."
_by_message = attrgetter("message")


def build() -> FastAPI:
    """The app."""
    app = FastAPI()
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

    @app.get("/fortunes", response_class=HTMLResponse)
    async def fortunes(request: Request) -> HTMLResponse:
        rows = list(FORTUNE_ROWS)
        rows.append(Fortune(0, ADDITIONAL_FORTUNE))
        rows.sort(key=_by_message)
        return templates.TemplateResponse(request, "fortunes.html", {"fortunes": rows})

    return app


async def close(app: FastAPI) -> None:
    """Nothing to close."""
