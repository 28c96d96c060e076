"""What PostgreSQL's planner expects of a change list's query, read with one
``EXPLAIN`` and kept for :data:`PLAN_SECONDS`: how many rows it gives, what reading them
costs, and whether it reads the whole table (a sequential scan: a search no index
serves); and the planner's size of the table, kept for :data:`TABLE_SIZE_SECONDS`.

The plan depends on the query and on the table's statistics, which change with
``ANALYZE`` only, so a list opened again (the same search, the same filters) reuses it
instead of paying a round trip and a compilation with literal values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, text

from nightowl.admin._ttl import TTLCache

__all__ = ["PLAN_SECONDS", "TABLE_SIZE_SECONDS", "Plan", "plan_of", "table_size"]

#: How long (seconds) the planner's size of a table is kept before it is read again.
TABLE_SIZE_SECONDS = 30.0
#: How long (seconds) a plan is kept.
PLAN_SECONDS = 30.0
_SCANS = ("Seq Scan", "Parallel Seq Scan")


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's view of one query: its rows, its cost (in the planner's units, about
    one sequential page read each) and whether it scans ``table`` whole."""

    rows: int
    cost: float
    scans_table: bool


#: Plans by query (at most 256 per model admin) and the table's size.
_plans: TTLCache[str, Plan] = TTLCache("_plans", size=256)
_table_sizes: TTLCache[str, int | None] = TTLCache("_table_size")


async def plan_of(admin: Any, session: Any, statement: Select[Any]) -> Plan | None:
    """The plan of ``statement`` (PostgreSQL), from the admin's cache when fresh;
    ``None`` when the query cannot be written with literal values."""
    bind = session.get_bind()
    try:
        sql = str(
            statement.order_by(None).compile(
                dialect=bind.dialect, compile_kwargs={"literal_binds": True}
            )
        )
    except Exception:  # a value that cannot be written as a literal: no plan
        return None
    table = admin.mapper.local_table.name

    async def explain() -> Plan:
        raw = await session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
        data = json.loads(raw) if isinstance(raw, str) else raw
        root = data[0]["Plan"]
        return Plan(int(root["Plan Rows"]), float(root["Total Cost"]), _scans(root, table))

    return await _plans.get(admin, sql, PLAN_SECONDS, explain)


def _scans(node: dict[str, Any], table: str) -> bool:
    if node.get("Node Type") in _SCANS and node.get("Relation Name") == table:
        return True
    return any(_scans(child, table) for child in node.get("Plans", ()))


async def table_size(admin: Any, session: Any) -> int | None:
    """The planner's row count of the admin's table (PostgreSQL), else ``None``; read at
    most every :data:`TABLE_SIZE_SECONDS` (it changes with ``ANALYZE`` only)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    table = admin.mapper.local_table.name

    async def read() -> int | None:
        found = await session.scalar(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": table},
        )
        return None if found is None else int(found)

    return await _table_sizes.get(admin, table, TABLE_SIZE_SECONDS, read)
