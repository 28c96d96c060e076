"""The route template a request matched (``/users/{user_id}``), for labels and spans.

Labels must be templates, never raw paths: ``/users/1`` ... ``/users/99999`` would be as
many time series. The table is built from the app's compiled routes on first use.
"""

from __future__ import annotations

from typing import Any

from nightowl._table import RouteTable

__all__ = ["UNMATCHED", "RouteTemplates"]

#: The label of a request no route answers (404s, 405s, mounted apps).
UNMATCHED = "<unmatched>"


class RouteTemplates:
    """Finds the template of the route that answers ``(method, path)`` in ``app``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._table: RouteTable[str] | None = None

    def _build(self) -> RouteTable[str]:
        table: RouteTable[str] = RouteTable()
        for compiled in self.app.compiled_routes():
            route = compiled.route
            table.add(route.template, route.methods, route.template.format, implicit=True)
        self._table = table
        return table

    def find(self, method: str, path: str) -> str:
        """The template, or :data:`UNMATCHED`."""
        table = self._table or self._build()
        template, _, _ = table.lookup("GET" if method == "HEAD" else method, path)
        return template if template is not None else UNMATCHED
