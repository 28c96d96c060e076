"""Export the change list, as filtered and searched, to CSV or JSON, streamed.

Rows are read in batches by primary key (``WHERE id > last ORDER BY id LIMIT n``), so a
million-row export holds one batch in memory at a time and never skips or repeats a
row, however long it takes. CSV cells that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``...) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from nightowl.admin._changelist import ChangeList
from nightowl.admin._filters import BadParameter
from nightowl.admin._history import jsonable
from nightowl.admin._options import ModelAdmin
from nightowl.exceptions import HTTPException
from nightowl.responses import StreamingResponse

if TYPE_CHECKING:
    from nightowl.admin._protocol import SiteAPI
    from nightowl.requests import Request

__all__ = ["BATCH", "export", "export_fields"]

#: Rows read per query.
BATCH = 1000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def export_fields(model_admin: ModelAdmin) -> list[str]:
    """The exported columns: those of the model's ``read`` schema (no private column)."""
    return list(model_admin.model.schema("read").model_fields)


def _cell(value: Any) -> Any:
    value = jsonable(value)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


async def _batches(
    site: SiteAPI, model_admin: ModelAdmin, statement: Any
) -> AsyncIterator[list[Any]]:
    pk = getattr(model_admin.model, model_admin.pk_key)
    last: Any = None
    async with site.app.state.database.async_session() as session:
        while True:
            query = statement if last is None else statement.where(pk > last)
            objects = list((await session.scalars(query.order_by(pk.asc()).limit(BATCH))).all())
            if not objects:
                return
            yield objects
            last = model_admin.pk_of(objects[-1])
            session.expunge_all()  # one batch in memory at a time
            if len(objects) < BATCH:
                return


async def _csv(site: SiteAPI, model_admin: ModelAdmin, statement: Any) -> AsyncIterator[str]:
    fields = export_fields(model_admin)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    async for objects in _batches(site, model_admin, statement):
        for obj in objects:
            writer.writerow([_cell(getattr(obj, name)) for name in fields])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def _json(site: SiteAPI, model_admin: ModelAdmin, statement: Any) -> AsyncIterator[str]:
    fields = export_fields(model_admin)
    yield "["
    first = True
    async for objects in _batches(site, model_admin, statement):
        parts = []
        for obj in objects:
            row = {name: jsonable(getattr(obj, name)) for name in fields}
            parts.append(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
            first = False
        yield "".join(parts)
    yield "\n]\n"


async def export(
    site: SiteAPI, model_admin: ModelAdmin, request: Request, kind: str
) -> StreamingResponse:
    """The ``export.csv`` / ``export.json`` response of a change list."""
    if not await model_admin.has_view_permission(request):
        raise HTTPException(403, "You do not have permission to do this.")
    try:
        changes = ChangeList(model_admin, request)
        statement = await changes.statement()
    except BadParameter as exc:
        raise HTTPException(400, str(exc)) from None
    body = _csv if kind == "csv" else _json
    filename = f"{model_admin.app_label}-{model_admin.model_name}.{kind}"
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        body(site, model_admin, statement), headers=headers, media_type=_TYPES[kind]
    )
