"""Pages of query results, with sorting and filtering limited to allowed fields."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession as _SAAsyncSession
from sqlalchemy.orm import Session as _SASession

from nightowl.exceptions import HTTPException

__all__ = ["Page", "paginate"]

T = TypeVar("T")

#: The largest page a client may ask for unless ``max_size`` says otherwise.
MAX_PAGE_SIZE = 100


class Page(BaseModel, Generic[T]):
    """One page of results: ``-> Page[UserOut]`` documents the items' schema too."""

    model_config = ConfigDict(from_attributes=True)

    items: list[T] = Field(description="The results on this page.")
    total: int = Field(description="How many results there are on all pages.", ge=0)
    page: int = Field(description="This page's number, from 1.", ge=1)
    size: int = Field(description="The most results a page holds.", ge=1)
    pages: int = Field(description="How many pages there are.", ge=0)

    def __class_getitem__(cls, params: Any) -> Any:
        # Called from here rather than from the caller's frame, pydantic does not look the
        # caller's module up in sys.modules, so ``Page[X]`` also works in code run by exec().
        return super().__class_getitem__(params)


class _Query:
    """A checked, paged version of a statement: the count and the items' statements."""

    def __init__(
        self,
        statement: Select[Any],
        page: int,
        size: int,
        max_size: int,
        sort: str | Sequence[str] | None,
        sortable: Iterable[str] | None,
        filters: Mapping[str, Any] | None,
        filterable: Iterable[str] | None,
    ) -> None:
        if page < 1:
            raise HTTPException(400, "page must be 1 or more.")
        if not 1 <= size <= max_size:
            raise HTTPException(400, f"size must be between 1 and {max_size}.")
        self.page = page
        self.size = size
        columns = _public_columns(statement)
        allowed_sort = set(sortable) if sortable is not None else set(columns)
        allowed_filter = set(filterable) if filterable is not None else set(columns)
        for key, value in (filters or {}).items():
            if key not in allowed_filter or key not in columns:
                raise HTTPException(400, _unknown("filter by", key, allowed_filter & set(columns)))
            statement = statement.where(columns[key] == value)
        self.count = select(func.count()).select_from(statement.order_by(None).subquery())
        order = []
        for key in _sort_keys(sort):
            descending = key.startswith("-")
            name = key.lstrip("-+")
            if name not in allowed_sort or name not in columns:
                raise HTTPException(400, _unknown("sort by", name, allowed_sort & set(columns)))
            order.append(columns[name].desc() if descending else columns[name].asc())
        if order:
            statement = statement.order_by(None).order_by(*order)
        elif not statement._order_by_clauses:
            statement = statement.order_by(*_primary_key(statement))
        self.items = statement.limit(size).offset((page - 1) * size)
        self.scalar = len(statement.column_descriptions) == 1

    def page_of(self, items: Sequence[Any], total: int) -> Page[Any]:
        return Page(
            items=list(items),
            total=total,
            page=self.page,
            size=self.size,
            pages=math.ceil(total / self.size) if total else 0,
        )


def _sort_keys(sort: str | Sequence[str] | None) -> list[str]:
    if not sort:
        return []
    if isinstance(sort, str):
        sort = sort.split(",")
    return [key.strip() for key in sort if key.strip()]


def _unknown(what: str, name: str, allowed: set[str]) -> str:
    options = ", ".join(sorted(allowed)) or "none"
    return f"Cannot {what} {name!r}; allowed: {options}."


def _entity(statement: Select[Any]) -> Any:
    descriptions = statement.column_descriptions
    return descriptions[0].get("entity") if descriptions else None


def _public_columns(statement: Select[Any]) -> dict[str, Any]:
    entity = _entity(statement)
    if entity is None:
        return {}
    mapper = inspect(entity)
    found: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        if any(column.info.get("private") for column in prop.columns):
            continue
        found[prop.key] = getattr(entity, prop.key)
    return found


def _primary_key(statement: Select[Any]) -> list[Any]:
    entity = _entity(statement)
    if entity is None:
        return []
    return list(inspect(entity).primary_key)


@overload
def paginate(
    db: _SAAsyncSession,
    statement: Select[Any],
    *,
    page: int = 1,
    size: int = 20,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Awaitable[Page[Any]]: ...


@overload
def paginate(
    db: _SASession,
    statement: Select[Any],
    *,
    page: int = 1,
    size: int = 20,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Page[Any]: ...


def paginate(
    db: _SASession | _SAAsyncSession,
    statement: Select[Any],
    *,
    page: int = 1,
    size: int = 20,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Page[Any] | Awaitable[Page[Any]]:
    """Run one page of ``statement``: ``Page(items, total, page, size, pages)``.

    With an :class:`AsyncSession`, await the result. ``sort`` (``"-created,name"``) and
    ``filters`` (``{"status": "open"}``, equality) usually come from the request, so
    their field names must be in ``sortable`` / ``filterable`` (by default: the
    selected model's non-private columns); any other name is a 400, never SQL.

    ::

        @app.get("/users")
        def users(db: Session, page: int = 1, size: int = 20, sort: str = "id") -> Page[UserOut]:
            return paginate(db, select(User), page=page, size=size, sort=sort,
                            sortable=["id", "email"])

    Args:
        db: the session.
        statement: a ``select()`` of one model (or of columns).
        page: the page number, from 1.
        size: results per page, at most ``max_size``.
        max_size: the largest ``size`` accepted.
        sort: field names, ``-`` in front for descending; comma-separated or a list.
        sortable: the names ``sort`` may use.
        filters: field name -> value that rows must equal.
        filterable: the names ``filters`` may use.
    """
    query = _Query(statement, page, size, max_size, sort, sortable, filters, filterable)
    if isinstance(db, _SAAsyncSession):
        return _paginate_async(db, query)
    total = db.execute(query.count).scalar_one()
    result = db.execute(query.items)
    items = result.scalars().all() if query.scalar else result.mappings().all()
    return query.page_of(items, total)


async def _paginate_async(db: _SAAsyncSession, query: _Query) -> Page[Any]:
    total = (await db.execute(query.count)).scalar_one()
    result = await db.execute(query.items)
    items = result.scalars().all() if query.scalar else result.mappings().all()
    return query.page_of(items, total)
