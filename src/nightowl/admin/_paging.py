"""Keyset paging of the change list: the signed keys of the next and previous links,
the page read after (or before) such a key, and a deep page read from the anchors.

:class:`KeysetPaging` is a part of :class:`~nightowl.admin._changelist.ChangeList`,
which provides the state it reads (the admin, the query string, the page) and how a
page's objects are loaded (:meth:`KeysetPaging._objects`, :meth:`KeysetPaging._loaders`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import Select

from nightowl.admin._anchors import Anchors
from nightowl.admin._filters import BadParameter
from nightowl.admin._keyset import Cursor, Keyset
from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.admin._options import ModelAdmin
    from nightowl.requests import Request

__all__ = ["KeysetPaging", "order_clauses"]


def order_clauses(ordering: list[tuple[Any, bool]], reverse: bool = False) -> list[Any]:
    """``ORDER BY`` clauses of ``(expression, descending)`` pairs (turned round if ``reverse``)."""
    return [e.desc() if descending != reverse else e.asc() for e, descending in ordering]


class KeysetPaging:
    """The keyset half of the change list (see the module's docstring)."""

    admin: ModelAdmin
    request: Request
    params: dict[str, str]
    page: int
    pages: int
    count: int
    estimated: bool
    next_key: str | None
    previous_key: str | None

    def _loaders(self) -> list[Any]:
        raise NotImplementedError

    async def _objects(self, session: Any, query: Select[Any]) -> list[Any]:
        raise NotImplementedError

    def _keyset(self, ordering: list[tuple[Any, bool]]) -> Keyset:
        kept: dict[str, Keyset] = self.admin.__dict__.setdefault("_keysets", {})
        order = self.params.get("o", "")
        found = kept.get(order)
        if found is None:
            found = kept[order] = Keyset(ordering, self.admin.mapper.local_table)
        return found

    def _secret(self) -> str | None:
        from nightowl.sessions import secret_key_for

        try:
            return secret_key_for(self.request.app)
        except ImproperlyConfigured:
            return None

    def _context(self, page: int) -> str:
        """What a boundary key is signed for: this list (its search, filters and order)
        and the page the link opens."""
        rest = sorted((k, v) for k, v in self.params.items() if k not in ("p", "k"))
        return f"{self.admin.app_label}.{self.admin.model_name}|{page}|{urlencode(rest)}"

    def _read_cursor(self, keyset: Keyset, secret: str | None) -> Cursor | None:
        token = self.params.get("k")
        if token is None:
            return None
        if secret is None:
            raise BadParameter("This list is paged by number only: k is not accepted here.")
        return keyset.decode(token, secret, self._context(self.page))

    def _boundary_keys(self, keyset: Keyset, secret: str, objects: list[Any]) -> None:
        """The signed keys of the links to the next and the previous page."""
        if len(objects) == self.admin.list_per_page and (self.estimated or self.page < self.pages):
            after = Cursor(True, keyset.key_of(objects[-1]))
            self.next_key = keyset.encode(after, secret, self._context(self.page + 1))
        if self.page > 2:
            before = Cursor(False, keyset.key_of(objects[0]))
            self.previous_key = keyset.encode(before, secret, self._context(self.page - 1))

    async def _seek(
        self,
        session: Any,
        statement: Select[Any],
        keyset: Keyset,
        cursor: Cursor,
        ordering: list[tuple[Any, bool]],
    ) -> list[Any]:
        """The page after (or before) a boundary key: an index seek, whatever the page."""
        clauses = order_clauses(ordering, reverse=not cursor.after)
        page = statement.where(keyset.seek(cursor)).order_by(*clauses)
        page = page.limit(self.admin.list_per_page).options(*self._loaders())
        objects = await self._objects(session, page)
        if not cursor.after:
            objects.reverse()
        return objects

    async def _anchored(
        self,
        session: Any,
        statement: Select[Any],
        keyset: Keyset,
        anchors: Anchors,
        ordering: list[tuple[Any, bool]],
    ) -> list[Any]:
        """A deep page of a big unfiltered list, from the anchor at or before it."""
        per_page = self.admin.list_per_page
        if self.estimated:
            self.count = anchors.total
            last = max(1, math.ceil(anchors.total / per_page))
            # A page number made from the planner's estimate may be past the end.
            self.page = min(self.page, last)
        offset = (self.page - 1) * per_page
        key, skip = anchors.nearest(offset)
        page = statement.order_by(*order_clauses(ordering))
        if key is not None:
            page = page.where(keyset.seek(Cursor(True, key), inclusive=True))
        page = page.offset(skip).limit(per_page).options(*self._loaders())
        return await self._objects(session, page)
