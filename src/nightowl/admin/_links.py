"""The change list's links: its query string with changes, the column headings that
sort, the paginator (the neighbouring pages carry their signed keys) and the rows of
the result table.

:class:`ListLinks` is a part of :class:`~nightowl.admin._changelist.ChangeList`, which
provides the state it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from markupsafe import Markup

from nightowl.admin._results import Row, result_rows

if TYPE_CHECKING:
    from nightowl.admin._fields import ListColumn
    from nightowl.admin._options import ModelAdmin

__all__ = ["Header", "ListLinks"]


@dataclass(frozen=True, slots=True)
class Header:
    """A column heading: its title and, when sortable, the URL sorting by it."""

    name: str
    title: str
    sort_url: str | None
    sorted: str | None  # "asc", "desc" or None


class ListLinks:
    """The links half of the change list (see the module's docstring)."""

    admin: ModelAdmin
    params: dict[str, str]
    columns: list[ListColumn]
    order: list[tuple[str, bool]]
    rows: list[Row]
    page: int
    pages: int
    next_key: str | None
    previous_key: str | None

    @property
    def sortable(self) -> dict[str, Any]:
        raise NotImplementedError

    def result_rows(self, with_actions: bool) -> Markup:
        """The result table's rows as HTML, a checkbox first ``with_actions``."""
        empty = f"No {self.admin.name_plural} found."
        return result_rows(self.rows, with_actions, empty, len(self.columns) + 1)

    def url(self, **changes: str | None) -> str:
        """This list's query string with ``changes`` (``None`` removes a parameter); a
        change of anything but the page goes back to page 1."""
        params = dict(self.params)
        if "p" not in changes:
            params.pop("p", None)
        if "k" not in changes:
            params.pop("k", None)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return "?" + urlencode(params) if params else "?"

    def export_url(self, base: str, kind: str) -> str:
        """The URL of this list's export as ``kind`` (``csv``, ``json``) under ``base``:
        its search, filters and order, not its page (an export holds every page)."""
        query = self.url()
        return f"{base}/export.{kind}{query if query != '?' else ''}"

    def headers(self) -> list[Header]:
        """The column headings, with their sorting links."""
        current = dict(self.order)
        out = []
        for column in self.columns:
            if column.name not in self.sortable:
                out.append(Header(column.name, column.title, None, None))
                continue
            descending = current.get(column.name)
            state = None if descending is None else ("desc" if descending else "asc")
            target = column.name if descending in (None, True) else f"-{column.name}"
            out.append(Header(column.name, column.title, self.url(o=target), state))
        return out

    def page_links(self) -> list[tuple[int | None, str]]:
        """``(page, url)`` of the pagination, ``None`` for a gap."""
        last = self.pages
        wanted = sorted({1, 2, last - 1, last, *range(self.page - 2, self.page + 3)})
        links: list[tuple[int | None, str]] = []
        previous = 0
        for number in wanted:
            if not 1 <= number <= last:
                continue
            if number - previous > 1:
                links.append((None, ""))
            key = None
            if number == self.page + 1:
                key = self.next_key
            elif number == self.page - 1:
                key = self.previous_key
            links.append((number, self.url(p=str(number), k=key)))
            previous = number
        return links
