"""``nightowl routes``: a table of the app's routes."""

from __future__ import annotations

from typing import Any

import click

from nightowl.cli.group import ScriptInfo
from nightowl.routing import Route, WebSocketRoute

__all__ = ["handler_name", "routes_command", "routes_table"]

_HEADER = ("METHODS", "PATH", "NAME", "HANDLER")
_SORT_KEYS = {"path": 1, "name": 2, "methods": 0, "handler": 3}


@click.command("routes")
@click.argument("app_ref", metavar="[APP]", required=False)
@click.option(
    "--sort",
    type=click.Choice(sorted(_SORT_KEYS)),
    default=None,
    help="Sort the table by a column (default: the order routes were added).",
)
@click.pass_obj
def routes_command(info: ScriptInfo, app_ref: str | None, sort: str | None) -> None:
    """List the app's routes: methods, path, name and handler.

    APP is MODULE[:NAME], found as for `nightowl run`.
    """
    located = info.locate(app_ref)
    routes = getattr(located.app, "routes", None)
    if routes is None:
        raise click.ClickException(
            f"{located.import_string} is not a nightowl app, so it has no routes to list."
        )
    rows = [_row(route) for route in routes]
    if not rows:
        click.echo("No routes.")
        return
    if sort is not None:
        rows.sort(key=lambda row: row[_SORT_KEYS[sort]])
    click.echo(routes_table(rows))


def routes_table(rows: list[tuple[str, str, str, str]]) -> str:
    """Format rows of (methods, path, name, handler) as an aligned table with a header."""
    table = [_HEADER, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(_HEADER) - 1)]
    lines = []
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)


def handler_name(route: Route | WebSocketRoute) -> str:
    """``module.qualname`` of the function (or view method) that handles ``route``."""
    endpoint: Any = route.endpoint
    module = getattr(endpoint, "__module__", None) or "?"
    qualname = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    view_method = getattr(route, "view_method", None)
    if view_method:
        qualname = f"{qualname}.{view_method}"
    return f"{module}.{qualname}"


def _row(route: Route | WebSocketRoute) -> tuple[str, str, str, str]:
    methods = "WS" if isinstance(route, WebSocketRoute) else ",".join(route.methods)
    return methods, route.path, str(route.name), handler_name(route)
