"""Flash messages: a note stored in the session and shown once, on the next page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nightowl.requests import Request

__all__ = ["flash", "get_flashed_messages"]

_SESSION_KEY = "_flashes"
_SCOPE_KEY = "nightowl.flashes"


def flash(request: Request, message: str, category: str = "info") -> None:
    """Show ``message`` on the next page this browser renders (Flask's ``flash``)::

    @app.post("/settings")
    def save(request: Request):
        flash(request, "Saved", category="success")
        return redirect(request.url_for("settings"))

    Templates show it with ``get_flashed_messages()``. Needs sessions.
    """
    flashes = list(request.session.get(_SESSION_KEY, ()))
    flashes.append([category, str(message)])
    request.session[_SESSION_KEY] = flashes


def get_flashed_messages(
    request: Request, *, with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    """The messages flashed so far, removed from the session (every call in one request sees them).

    Returns the messages, or ``(category, message)`` pairs with ``with_categories=True``;
    ``category_filter`` keeps only those categories.
    """
    scope = request.scope
    flashes: list[list[str]] | None = scope.get(_SCOPE_KEY)
    if flashes is None:
        session = scope.get("session")
        flashes = list(session.pop(_SESSION_KEY, ())) if session is not None else []
        scope[_SCOPE_KEY] = flashes
    wanted = set(category_filter)
    chosen = [(c, m) for c, m in flashes if not wanted or c in wanted]
    if with_categories:
        return chosen
    return [message for _, message in chosen]
