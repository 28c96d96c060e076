"""The change list: the query string (``q``, ``o``, ``p``, ``k`` and the filters) read
and checked, then one query for the page (many-to-one relations joined, collections by
``selectinload``) and, when needed, one count.

A page is read one of three ways: after (or before) the signed boundary key ``k`` of a
next or previous link (:mod:`nightowl.admin._keyset`, an index seek); on a big
unfiltered list, from the nearest boundary key taken once for every ten pages
(:mod:`nightowl.admin._anchors`); else by ``OFFSET``, the keys first on deep pages and
from the nearer end when the count is exact.

Every parameter is checked against what the admin allows: an unknown parameter, a
column that is not sortable, a filter value of the wrong type or a page that is not a
number is a :class:`~nightowl.admin._filters.BadParameter`, answered with a 400.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import RelationshipProperty, joinedload, selectinload

from nightowl.admin._anchors import anchors_for
from nightowl.admin._fields import ListColumn, list_columns, resolve, search_clause
from nightowl.admin._filters import BadParameter, ListFilter, make_filter
from nightowl.admin._keyset import Cursor, Keyset
from nightowl.admin._links import ListLinks
from nightowl.admin._options import ModelAdmin, maybe_await
from nightowl.admin._paging import KeysetPaging, order_clauses
from nightowl.admin._plans import Plan, plan_of, table_size
from nightowl.admin._results import Row

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = ["ChangeList", "Row"]

#: Above this many rows (by the planner's estimate), an unfiltered PostgreSQL list shows
#: "about N" from the statistics instead of counting every row.
ESTIMATE_ABOVE = 100_000
#: How long (ms) PostgreSQL may count a filtered list before the planner's estimate of
#: it is shown instead ("about N").
COUNT_TIMEOUT_MS = 200
#: A filtered list the planner expects to read for less than this cost (its units are
#: about one page read each) is counted at once, without the time limit's transaction.
COUNT_DIRECT_COST = 5_000.0
#: A filtered PostgreSQL list the planner expects to hold more rows than this shows its
#: estimate ("about N") without counting.
ESTIMATE_FILTERED_ABOVE = 100_000
#: From this offset on, a page reads its keys first, then its rows (a deferred join).
DEFERRED_FROM = 1_000
#: A filtered list whose plan reads the whole table, when it holds more rows than this
#: (by the planner's statistics), is not counted, and its page walks the ordering.
SCAN_ABOVE = 100_000
#: An unfiltered list of at least this many rows jumps to a deep page from its anchors.
ANCHORS_ABOVE = 100_000
_RESERVED = ("q", "o", "p", "k")


class ChangeList(KeysetPaging, ListLinks):
    """The state and the rows of one change-list page."""

    def __init__(self, admin: ModelAdmin, request: Request) -> None:
        self.admin = admin
        self.request = request
        self.columns: list[ListColumn] = list_columns(admin)
        filters: list[ListFilter] | None = admin.__dict__.get("_list_filters")
        if filters is None:
            filters = admin.__dict__["_list_filters"] = [
                make_filter(admin, name) for name in admin.list_filter
            ]
        self.filters = filters
        self.params = self._read_params(request)
        self.query = self.params.get("q", "").strip()
        self.order = self._read_order(self.params.get("o"))
        self.page = self._read_page(self.params.get("p"))
        self.filter_values = {
            key: value for key, value in self.params.items() if key not in _RESERVED
        }
        self.rows: list[Row] = []
        self.count = 0
        self.estimated = False
        self.pages = 1
        #: The planner's view of a filtered list's query (PostgreSQL, big tables).
        self.plan: Plan | None = None
        #: Set when all that is known is that the list holds more than this many rows.
        self.at_least: int | None = None
        #: The page walks the ordering's index (a search no index serves, on a big table).
        self.walk = False
        #: The signed boundary keys of the next and the previous page's links.
        self.next_key: str | None = None
        self.previous_key: str | None = None

    # -- reading the query string -------------------------------------------------------------
    def _read_params(self, request: Request) -> dict[str, str]:
        allowed = set(_RESERVED)
        for list_filter in self.filters:
            allowed.update(list_filter.params)
        params: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key not in allowed:
                raise BadParameter(f"Unknown parameter {key!r}.")
            if key in params:
                raise BadParameter(f"The parameter {key!r} is given twice.")
            if len(value) > 500 or "\x00" in value:
                raise BadParameter(f"The parameter {key!r} is too long or not text.")
            params[key] = value
        return params

    @property
    def sortable(self) -> dict[str, Any]:
        """The column names one may sort by, with their expression."""
        allowed = self.admin.sortable_by
        return {
            column.name: column.order_by
            for column in self.columns
            if column.order_by is not None and (allowed is None or column.name in allowed)
        }

    def _read_order(self, value: str | None) -> list[tuple[str, bool]]:
        if value is None or value == "":
            return []
        order: list[tuple[str, bool]] = []
        sortable = self.sortable
        for part in value.split(","):
            name = part.removeprefix("-")
            if name not in sortable or any(name == seen for seen, _ in order):
                raise BadParameter(
                    f"Cannot sort by {part!r}; sortable: {', '.join(sortable) or 'none'}."
                )
            order.append((name, part.startswith("-")))
        return order

    def _read_page(self, value: str | None) -> int:
        if value is None:
            return 1
        if not value.isdigit() or not 1 <= int(value) <= 10**9:
            raise BadParameter(f"p is a page number, not {value!r}.")
        return int(value)

    # -- the query ----------------------------------------------------------------------------
    async def statement(self) -> Select[Any]:
        """The admin's queryset with the search and the filters applied (no order, no page)."""
        statement: Select[Any] = await maybe_await(self.admin.get_queryset(self.request))
        if self.query:
            clause = search_clause(self.admin.model, self.admin.search_fields, self.query)
            if clause is not None:
                statement = statement.where(clause)
        for list_filter in self.filters:
            values = {k: v for k, v in self.filter_values.items() if k in list_filter.params}
            clause = list_filter.clause(values)
            if clause is not None:
                statement = statement.where(clause)
        return statement

    def ordering(self) -> list[tuple[Any, bool]]:
        """The ``ORDER BY`` of the page as ``(expression, descending)``: the chosen
        columns, else the admin's ``ordering``, then the primary key, so that pages never
        overlap."""
        admin = self.admin
        pairs: list[tuple[Any, bool]] = []
        sortable = self.sortable
        if self.order:
            pairs = [(sortable[name], descending) for name, descending in self.order]
        else:
            for name in admin.ordering:
                pairs.append((getattr(admin.model, name.lstrip("-")), name.startswith("-")))
        # The key last, in the direction of the column before it: an index on
        # ``(created_at, id)`` serves ``-created_at`` in one backward scan.
        pairs.append((getattr(admin.model, admin.pk_key), pairs[-1][1] if pairs else True))
        return pairs

    @property
    def filtered(self) -> bool:
        """A search or a filter narrows the list."""
        return bool(self.query or self.filter_values)

    async def _count_first(self, session: Any, statement: Select[Any], offset: int) -> bool:
        """Set the count before the page is read when that is cheap or needed; ``False``
        when it waits for the page (a first page not full needs no count at all)."""
        size = await table_size(self.admin, session)
        if size is None or size < ESTIMATE_ABOVE:
            self.count = int(await session.scalar(_counting(statement)) or 0)
            return True
        default = type(self.admin).get_queryset is ModelAdmin.get_queryset
        if not self.filtered and default:
            self.count, self.estimated = size, True
            return True
        self.plan = await plan_of(self.admin, session, statement)
        planned = 0 if self.plan is None else self.plan.rows
        if planned > ESTIMATE_FILTERED_ABOVE:
            # Counting that many rows is the slow page users of other admins know.
            self.count, self.estimated = planned, True
            return True
        if self.plan is not None and self.plan.scans_table and size >= SCAN_ABOVE:
            # No index serves this search: counting would read the whole table, and the
            # page walks the ordering instead (:meth:`_objects`).
            self.walk = True
            self.count, self.estimated = planned, True
            return True
        if offset == 0:
            return False
        await self._count(session, statement)
        return True

    async def _count(self, session: Any, statement: Select[Any]) -> None:
        """Count the rows: in the page's own session when the planner expects reading
        them to be cheap (one round trip), else within a time limit."""
        if self.plan is not None and self.plan.cost < COUNT_DIRECT_COST:
            self.count = int(await session.scalar(_counting(statement)) or 0)
        else:
            await self._bounded_count(session, statement)

    async def _bounded_count(self, session: Any, statement: Select[Any]) -> None:
        """An exact count within :data:`COUNT_TIMEOUT_MS`, else the planner's estimate.

        The count runs in a transaction of its own (the page is read outside one), whose
        ``SET LOCAL`` time limit ends with it, and whose error, if it is cut short,
        leaves the page's session untouched."""
        from sqlalchemy.exc import DBAPIError

        try:
            async with self.request.app.state.database.async_session() as counting:
                await counting.execute(text(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}"))
                self.count = int(await counting.scalar(_counting(statement)) or 0)
        except DBAPIError as exc:
            if "statement timeout" not in str(exc) and "canceling statement" not in str(exc):
                raise
            plan = self.plan or await plan_of(self.admin, session, statement)
            self.count, self.estimated = (0 if plan is None else plan.rows), True

    def _may_anchor(self, keyset: Keyset, offset: int) -> bool:
        default = type(self.admin).get_queryset is ModelAdmin.get_queryset
        return (
            keyset.usable
            and default
            and not self.filtered
            and offset >= DEFERRED_FROM
            and self.count >= ANCHORS_ABOVE
        )

    # -- reading the page ---------------------------------------------------------------------
    async def load(self, session: Any) -> None:
        """Count the rows and load the page."""
        statement = await self.statement()
        per_page = self.admin.list_per_page
        offset = (self.page - 1) * per_page
        ordering = self.ordering()
        keyset = self._keyset(ordering)
        secret = self._secret() if keyset.usable else None
        cursor = self._read_cursor(keyset, secret)
        counted = await self._count_first(session, statement, offset)
        if counted:
            self.pages = max(1, math.ceil(self.count / per_page))
            if self.page > self.pages and not self.estimated:
                raise BadParameter(f"There is no page {self.page}; the last is {self.pages}.")
        objects = await self._read(session, statement, keyset, cursor, ordering, counted)
        await self._settle_count(session, statement, objects, cursor, counted)
        self.pages = max(1, math.ceil(self.count / per_page))
        if secret is not None and objects:
            self._boundary_keys(keyset, secret, objects)
        admin = self.admin
        base = admin.admin.url(admin.app_label, admin.model_name)
        columns = self.columns
        self.rows = rows = []
        for obj in objects:
            pk = admin.pk_of(obj)
            cells = [column.cell(obj) for column in columns]
            rows.append(Row(obj, pk, cells, f"{base}/{quote(str(pk), safe='')}/change/"))

    async def _read(
        self,
        session: Any,
        statement: Select[Any],
        keyset: Keyset,
        cursor: Cursor | None,
        ordering: list[tuple[Any, bool]],
        counted: bool,
    ) -> list[Any]:
        """The page's objects: after a key, from the anchors, or by offset."""
        offset = (self.page - 1) * self.admin.list_per_page
        if cursor is not None:
            return await self._seek(session, statement, keyset, cursor, ordering)
        if counted and self._may_anchor(keyset, offset):
            clauses = order_clauses(ordering)
            order = self.params.get("o", "")
            anchors = await anchors_for(self.admin, session, statement, keyset, clauses, order)
            return await self._anchored(session, statement, keyset, anchors, ordering)
        return await self._page(session, statement, offset, counted and not self.estimated)

    async def _settle_count(
        self,
        session: Any,
        statement: Select[Any],
        objects: list[Any],
        cursor: Cursor | None,
        counted: bool,
    ) -> None:
        """The count once the page is read: a last page makes it exact, a count that
        waited for the page is taken, an estimate below the rows seen says "more than"."""
        per_page = self.admin.list_per_page
        seen = self.page * per_page
        before = cursor is not None and not cursor.after
        if len(objects) < per_page and (objects or self.page == 1) and not before:
            # The last page: what it holds makes the count exact.
            self.count, self.estimated = seen - per_page + len(objects), False
        elif not counted:
            await self._count(session, statement)
        elif self.estimated and len(objects) == per_page and self.count <= seen:
            # The planner guessed fewer rows than the pages seen hold.
            self.count, self.at_least = seen + 1, seen

    def _loaders(self) -> list[Any]:
        kept: list[Any] | None = self.admin.__dict__.get("_list_loaders")
        if kept is None:
            kept = self.admin.__dict__["_list_loaders"] = list_loaders(self.admin, self.columns)
        return kept

    async def _objects(self, session: Any, query: Select[Any]) -> list[Any]:
        """The objects ``query`` reads. A search no index serves walks the ordering's
        index and stops when the page is full (sorting is off for that one query, in a
        transaction of its own), instead of filtering the whole table and sorting the
        matches, which the planner picks when it expects few of them."""
        if not self.walk:
            return list((await session.scalars(query)).unique().all())
        async with self.request.app.state.database.async_session() as walking:
            await walking.execute(text("SET LOCAL enable_sort = off"))
            return list((await walking.scalars(query)).unique().all())

    async def _page(
        self, session: Any, statement: Select[Any], offset: int, exact: bool
    ) -> list[Any]:
        """The objects of the page, in order, their relations loaded."""
        per_page = self.admin.list_per_page
        loaders = self._loaders()
        ordering = self.ordering()
        backwards = exact and offset > self.count // 2
        limit = per_page
        if backwards:
            # Past the middle, read from the other end: the database skips fewer rows, so
            # the last page costs what the first one does.
            limit = max(0, min(per_page, self.count - offset))
            offset = max(0, self.count - offset - limit)
            ordering = [(expression, not descending) for expression, descending in ordering]
        clauses = order_clauses(ordering)
        page = statement.order_by(*clauses)
        if offset >= DEFERRED_FROM:
            # A deferred join: the keys of the page first (an index holding the sorted
            # columns and the key skips the offset without reading the rows), then the rows.
            pk = getattr(self.admin.model, self.admin.pk_key)
            keys = statement.with_only_columns(pk).order_by(*clauses).limit(limit).offset(offset)
            page = page.where(pk.in_(keys))
        else:
            page = page.limit(limit).offset(offset)
        objects = await self._objects(session, page.options(*loaders))
        if backwards:
            objects.reverse()
        return objects


def list_loaders(admin: ModelAdmin, columns: list[ListColumn]) -> list[Any]:
    """The loader options of the list's query: a chain of many-to-one relations shown
    is joined to the page's own query (``joinedload``: no second round trip, no list of
    keys to send); a collection is loaded by ``selectinload``, as are ``list_prefetch``."""
    loaders: list[Any] = []
    for column in columns:
        if column.loader is None:
            continue
        try:
            path = resolve(admin.model, column.name)
        except KeyError:
            loaders.append(column.loader)
            continue
        chain = list(path.relationships)
        if isinstance(path.final, RelationshipProperty):
            chain.append(path.final)
        if not chain or any(rel.uselist for rel in chain):
            loaders.append(column.loader)
            continue
        option = joinedload(getattr(chain[0].parent.class_, chain[0].key))
        for rel in chain[1:]:
            option = option.joinedload(getattr(rel.parent.class_, rel.key))
        loaders.append(option)
    loaders.extend(selectinload(getattr(admin.model, name)) for name in admin.list_prefetch)
    return loaders


def _counting(statement: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(statement.order_by(None).subquery())
