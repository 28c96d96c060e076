"""Boundary keys ("anchors") of a big unfiltered change list, so that a jump to page N
reads at most :data:`ANCHOR_EVERY` pages' worth of index entries instead of ``N - 1``.

One query walks the ordering's index once and keeps the sort key of every
``ANCHOR_EVERY * list_per_page``-th row (on PostgreSQL a recursive query hopping along
the index, elsewhere ``row_number()``), and one more counts the rows past the last of
them, which gives the number of rows; the result is kept on
the admin for :data:`ANCHORS_SECONDS` per ordering. Page N then seeks to the anchor at
or before its first row and skips fewer rows than that stretch holds.

Rows inserted or deleted meanwhile move page boundaries only within one stretch: page N
shows what it held when the anchors were taken, give or take the rows added or removed
in its own stretch, until they are taken again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal, select, true
from sqlalchemy.orm import aliased

from nightowl.admin._keyset import Cursor, Keyset
from nightowl.admin._ttl import TTLCache

__all__ = ["ANCHORS_SECONDS", "ANCHOR_EVERY", "Anchors", "anchors_for"]

#: An anchor every this many pages.
ANCHOR_EVERY = 10
#: How long (seconds) the anchors of one ordering are kept before they are taken again.
ANCHORS_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Anchors:
    """The sort keys of the rows at offsets ``0, step, 2 * step...`` and the row count."""

    step: int
    total: int
    keys: list[tuple[Any, ...]]

    def nearest(self, offset: int) -> tuple[tuple[Any, ...] | None, int]:
        """The anchor at or before ``offset`` and the rows still to skip after it
        (``None`` and ``offset`` before the first anchor or past the known ones)."""
        index = offset // self.step
        if not self.keys:
            return None, offset
        index = min(index, len(self.keys) - 1)
        return self.keys[index], offset - index * self.step


#: The anchors of a model admin's list, by ordering.
_anchors: TTLCache[str, Anchors] = TTLCache("_anchors")


async def anchors_for(
    admin: Any,
    session: Any,
    statement: Select[Any],
    keyset: Keyset,
    clauses: list[Any],
    order_key: str,
) -> Anchors:
    """The anchors of ``statement`` in this order, from the admin's cache when fresh."""

    async def take() -> Anchors:
        step = ANCHOR_EVERY * admin.list_per_page
        if session.get_bind().dialect.name == "postgresql":
            keys = await _walk(admin, session, keyset, clauses, step)
        else:
            keys = await _numbered(session, statement, keyset, clauses, step)
        total = 0
        if keys:
            tail = select(func.count()).select_from(
                statement.where(keyset.seek(Cursor(True, keys[-1]), inclusive=True)).subquery()
            )
            total = (len(keys) - 1) * step + int(await session.scalar(tail) or 0)
        return Anchors(step, total, keys)

    return await _anchors.get(admin, order_key, ANCHORS_SECONDS, take)


async def _walk(
    admin: Any, session: Any, keyset: Keyset, clauses: list[Any], step: int
) -> list[tuple[Any, ...]]:
    """PostgreSQL: a recursive query, each anchor ``step - 1`` index entries past the one
    before (an index-only walk of the table, no sort, no window)."""
    width = len(keyset.expressions)
    first = select(*keyset.expressions, literal(0).label("n")).order_by(*clauses).limit(1)
    found = first.cte("anchors", recursive=True)
    previous = list(found.c)
    alias = aliased(admin.model, name="b")
    columns = [getattr(alias, key) for key in keyset.keys]
    seek = keyset.seek(Cursor(True, tuple(previous[:width])), expressions=columns)
    following = (
        select(*columns)
        .where(seek)
        .order_by(*_alias_clauses(keyset, columns))
        .offset(step - 1)
        .limit(1)
        .lateral("following")
    )
    found = found.union_all(
        select(*following.c, previous[-1] + 1).select_from(found.join(following, true()))
    )
    query = select(*list(found.c)[:width]).order_by(list(found.c)[-1])
    return [tuple(row) for row in (await session.execute(query)).all()]


async def _numbered(
    session: Any, statement: Select[Any], keyset: Keyset, clauses: list[Any], step: int
) -> list[tuple[Any, ...]]:
    """Other databases: the rows numbered in order, every ``step``-th kept."""
    width = len(keyset.expressions)
    number = func.row_number().over(order_by=clauses).label("n")
    inner = statement.with_only_columns(*keyset.expressions, number).subquery()
    columns = list(inner.c)
    query = select(*columns[:width]).where((columns[-1] - 1) % step == 0).order_by(columns[-1])
    return [tuple(row) for row in (await session.execute(query)).all()]


def _alias_clauses(keyset: Keyset, columns: list[Any]) -> list[Any]:
    return [
        c.desc() if descending else c.asc()
        for c, descending in zip(columns, keyset.descending, strict=True)
    ]
