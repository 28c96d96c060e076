"""The rows of the change list's result table as HTML, written in Python.

A hundred rows of a few cells each are a few thousand template steps in Jinja (a loop
context per row and per cell, an escape per value); one function joining strings costs
a fraction of that, like Django's ``items_for_result``. The markup is the template's:
every value escaped (``Markup`` cells, the boolean icons, pass through as they are).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

__all__ = ["Row", "result_rows"]


@dataclass(slots=True)
class Row:
    """One row of the list: the object, its primary key, its cells and its change page."""

    obj: Any
    pk: Any
    cells: list[Any]
    url: str = ""


def result_rows(rows: list[Row], with_actions: bool, empty: str, columns: int) -> Markup:
    """The ``<tr>`` of every row (a checkbox first when ``with_actions``), or one row
    saying ``empty`` across ``columns`` cells when there is none."""
    if not rows:
        return Markup(f'<tr><td colspan="{columns}">{escape(empty)}</td></tr>')
    parts: list[str] = []
    add = parts.append
    for row in rows:
        add("<tr>")
        if with_actions:
            add(
                '<td class="action-checkbox"><input type="checkbox" name="_selected_action" '
                f'value="{escape(row.pk)}" class="action-select" '
                f'aria-label="Select {escape(row.obj)}"></td>'
            )
        cells = row.cells
        add(f'<th scope="row"><a href="{escape(row.url)}">{escape(cells[0])}</a></th>')
        for cell in cells[1:]:
            add(f"<td>{escape(cell)}</td>")
        add("</tr>\n")
    return Markup("".join(parts))
