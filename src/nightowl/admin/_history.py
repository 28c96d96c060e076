"""Writing and reading the audit log: a :class:`~nightowl.admin.models.LogEntry` per
add, change, delete and action, with a field-level diff, in the same transaction as
the change itself."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import ColumnProperty

from nightowl.admin.models import LogEntry

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = ["diff", "entries_for", "jsonable", "log", "recent_actions", "request_id", "snapshot"]

_REQUEST_ID = "nightowl.admin.request_id"


def request_id(request: Request) -> str:
    """The request's id: the app's (``request.request_id``, also echoed in the response and
    the logs), else the ``X-Request-ID`` header (when sane), else an id made once for it."""
    given_by_app = getattr(request, "request_id", None)
    if isinstance(given_by_app, str) and given_by_app:
        return given_by_app[:100]
    found = request.scope.get(_REQUEST_ID)
    if found is None:
        given = request.headers.get("x-request-id", "")
        ok = 0 < len(given) <= 100 and given.isprintable()
        found = request.scope[_REQUEST_ID] = given if ok else uuid.uuid4().hex
    return str(found)


def jsonable(value: Any) -> Any:
    """``value`` as JSON keeps it in the log (dates as ISO text, enums as their value)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return sorted((jsonable(v) for v in value), key=str)
    return str(value)


def snapshot(obj: Any, relations: tuple[str, ...] = ()) -> dict[str, Any]:
    """The loaded, public column values of ``obj`` (and the primary keys of ``relations``,
    many-to-many collections), as JSON values."""
    state = sa_inspect(obj)
    values: dict[str, Any] = {}
    for prop in state.mapper.attrs:
        if not isinstance(prop, ColumnProperty) or prop.key in state.unloaded:
            continue
        if any(column.info.get("private") for column in prop.columns):
            continue
        values[prop.key] = jsonable(state.dict.get(prop.key))
    for name in relations:
        related = state.dict.get(name) or []
        values[name] = sorted((jsonable(sa_inspect(o).identity[0]) for o in related), key=str)
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed."""
    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if key in before and before[key] != value
    }


def log(
    session: Any,
    request: Request,
    model_admin: Any,
    obj: Any,
    action: str,
    changes: dict[str, Any] | None = None,
) -> LogEntry:
    """Add a log entry to ``session`` (it is saved with the change)."""
    user = request.scope.get("user")
    entry = LogEntry(
        user_id=getattr(user, "id", None),
        user_repr=str(user)[:150] if user is not None else "",
        content_type=f"{model_admin.app_label}.{model_admin.model_name}",
        object_id=str(model_admin.pk_of(obj))[:100],
        object_repr=str(obj)[:200],
        action=action[:100],
        changes=changes or {},
        request_id=request_id(request),
    )
    session.add(entry)
    return entry


async def entries_for(session: Any, model_admin: Any, object_id: str) -> list[LogEntry]:
    """The history of one object, newest first."""
    content_type = f"{model_admin.app_label}.{model_admin.model_name}"
    query = (
        select(LogEntry)
        .where(LogEntry.content_type == content_type, LogEntry.object_id == object_id)
        .order_by(LogEntry.action_time.desc(), LogEntry.id.desc())
        .limit(500)
    )
    return list((await session.scalars(query)).all())


async def recent_actions(site: Any, request: Request, limit: int = 10) -> list[dict[str, Any]]:
    """The user's latest entries, for the index, with a link when the object still exists
    in a model of this site."""
    user = request.scope.get("user")
    if user is None:
        return []
    query = (
        select(LogEntry)
        .where(LogEntry.user_id == user.id)
        .order_by(LogEntry.action_time.desc(), LogEntry.id.desc())
        .limit(limit)
    )
    async with site.app.state.database.async_session() as session:
        entries = (await session.scalars(query)).all()
    out = []
    for entry in entries:
        label, _, model_name = entry.content_type.partition(".")
        registered = site.registry.get((label, model_name))
        url = None
        if registered is not None and entry.action != "delete":
            url = site.url(label, model_name, entry.object_id, "change") + "/"
        name = registered.name if registered is not None else entry.content_type
        out.append({"entry": entry, "url": url, "model": name})
    return out
