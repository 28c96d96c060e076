"""nightowl fortunes page from in-memory rows: ``render()`` with a Jinja2 template.

``App(templates=...)`` also turns signed-cookie sessions and CSRF protection on unless
``sessions=`` says otherwise; ``build(sessions=True)`` keeps that default (with a
secret key) to show what it costs, ``build()`` turns it off like the peers.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from apps.techempower import ADDITIONAL_FORTUNE, FORTUNE_ROWS, TEMPLATES_DIR, Fortune
from nightowl import App, Request, render

NOTES = "async def handler, render('fortunes.html', request, fortunes=...) (Jinja2, autoescape)."
_by_message = attrgetter("message")


def build(sessions: bool = False) -> App:
    """The app; ``sessions=True`` keeps the default sessions + CSRF middleware of templates."""
    options: dict[str, Any] = {"templates": str(TEMPLATES_DIR)}
    if sessions:
        options["secret_key"] = "benchmark-secret-key-not-for-production-use"
    else:
        options["sessions"] = False
    app = App(**options)

    @app.get("/fortunes")
    async def fortunes(request: Request) -> Any:
        rows = list(FORTUNE_ROWS)
        rows.append(Fortune(0, ADDITIONAL_FORTUNE))
        rows.sort(key=_by_message)
        return render("fortunes.html", request, fortunes=rows)

    return app


async def close(app: App) -> None:
    """Nothing to close."""
