"""Pages of query results (page/size or limit/offset), with sorting and filtering limited to
allowed fields, and response keys of your choosing."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model
from sqlalchemy import Select, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession as _SAAsyncSession
from sqlalchemy.orm import Session as _SASession

from nightowl.exceptions import HTTPException

__all__ = ["OffsetPage", "Page", "paginate"]

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

    @classmethod
    def keyed(cls, item: Any, /, name: str | None = None, **keys: str) -> type[BaseModel]:
        """This page's model with other response keys, for a return annotation::

            ArticlesPage = OffsetPage.keyed(ArticleOut, items="articles", total="articlesCount")

            @app.get("/api/articles")
            def articles(db: Session, limit: int = 20, offset: int = 0) -> ArticlesPage:
                return paginate(db, select(Article), limit=limit, offset=offset)

        answers ``{"articles": [...], "articlesCount": 42, "limit": 20, "offset": 0}``.
        """
        return _keyed(cls, item, name, keys)


class OffsetPage(BaseModel, Generic[T]):
    """A slice of results by ``limit`` and ``offset``, with the total:
    what ``paginate(db, statement, limit=..., offset=...)`` returns."""

    model_config = ConfigDict(from_attributes=True)

    items: list[T] = Field(description="The results in this slice.")
    total: int = Field(description="How many results there are in all.", ge=0)
    limit: int = Field(description="The most results a slice holds.", ge=1)
    offset: int = Field(description="How many results come before this slice.", ge=0)

    def __class_getitem__(cls, params: Any) -> Any:
        return super().__class_getitem__(params)

    @classmethod
    def keyed(cls, item: Any, /, name: str | None = None, **keys: str) -> type[BaseModel]:
        """This model with other response keys (see :meth:`Page.keyed`)."""
        return _keyed(cls, item, name, keys)


def _keyed(base: Any, item: Any, name: str | None, keys: Mapping[str, str]) -> type[BaseModel]:
    """A model of ``base[item]``'s fields, each under the key ``keys`` gives it (or its own),
    read from a ``base`` object (or a dict with either key)."""
    generic = base[item]
    unknown = set(keys) - set(generic.model_fields)
    if unknown:
        raise TypeError(
            f"{base.__name__}.keyed() got unknown fields {', '.join(sorted(unknown))}; "
            f"its fields are {', '.join(generic.model_fields)}."
        )
    fields: dict[str, Any] = {}
    for field_name, info in generic.model_fields.items():
        key = keys.get(field_name, field_name)
        alias = AliasChoices(key, field_name) if key != field_name else None
        fields[key] = (
            info.annotation,
            Field(description=info.description, validation_alias=alias),
        )
    model_name = name or f"{getattr(item, '__name__', 'Item')}{base.__name__}"
    model: type[BaseModel] = create_model(
        model_name, __config__=ConfigDict(from_attributes=True), **fields
    )
    return model


class _Query:
    """A checked, paged version of a statement: the count and the items' statements."""

    def __init__(
        self,
        statement: Select[Any],
        window: tuple[int, int, bool],
        max_size: int,
        sort: str | Sequence[str] | None,
        sortable: Iterable[str] | None,
        filters: Mapping[str, Any] | None,
        filterable: Iterable[str] | None,
    ) -> None:
        first, size, self.by_offset = window
        names = ("offset", "limit") if self.by_offset else ("page", "size")
        if first < (0 if self.by_offset else 1):
            raise HTTPException(400, f"{names[0]} must be {0 if self.by_offset else 1} or more.")
        if not 1 <= size <= max_size:
            raise HTTPException(400, f"{names[1]} must be between 1 and {max_size}.")
        self.offset = first if self.by_offset else (first - 1) * size
        self.page = first
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
        self.items = statement.limit(size).offset(self.offset)
        self.scalar = len(statement.column_descriptions) == 1

    def page_of(self, items: Sequence[Any], total: int) -> Page[Any] | OffsetPage[Any]:
        if self.by_offset:
            return OffsetPage(items=list(items), total=total, limit=self.size, offset=self.offset)
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
    page: int | None = None,
    size: int | None = None,
    limit: None = None,
    offset: None = None,
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
    page: int | None = None,
    size: int | None = None,
    limit: None = None,
    offset: None = None,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Page[Any]: ...


@overload
def paginate(
    db: _SAAsyncSession,
    statement: Select[Any],
    *,
    limit: int | None = None,
    offset: int | None = None,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Awaitable[OffsetPage[Any]]: ...


@overload
def paginate(
    db: _SASession,
    statement: Select[Any],
    *,
    limit: int | None = None,
    offset: int | None = None,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> OffsetPage[Any]: ...


def paginate(
    db: _SASession | _SAAsyncSession,
    statement: Select[Any],
    *,
    page: int | None = None,
    size: int | None = None,
    limit: int | None = None,
    offset: int | None = None,
    max_size: int = MAX_PAGE_SIZE,
    sort: str | Sequence[str] | None = None,
    sortable: Iterable[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    filterable: Iterable[str] | None = None,
) -> Page[Any] | OffsetPage[Any] | Awaitable[Page[Any] | OffsetPage[Any]]:
    """Run one page of ``statement``: ``Page(items, total, page, size, pages)``, or with
    ``limit`` and ``offset``, ``OffsetPage(items, total, limit, offset)``.

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
        page: the page number, from 1 (1 by default).
        size: results per page, at most ``max_size`` (20 by default).
        limit: the most results to return (20 by default), at most ``max_size``;
            with ``offset``, instead of ``page`` and ``size``.
        offset: how many results to skip (0 by default).
        max_size: the largest ``size`` accepted.
        sort: field names, ``-`` in front for descending; comma-separated or a list.
        sortable: the names ``sort`` may use.
        filters: field name -> value that rows must equal.
        filterable: the names ``filters`` may use.
    """
    query = _Query(
        statement, _window(page, size, limit, offset), max_size, sort, sortable, filters, filterable
    )
    if isinstance(db, _SAAsyncSession):
        return _paginate_async(db, query)
    total = db.execute(query.count).scalar_one()
    result = db.execute(query.items)
    items = result.scalars().all() if query.scalar else result.mappings().all()
    return query.page_of(items, total)


def _window(
    page: int | None, size: int | None, limit: int | None, offset: int | None
) -> tuple[int, int, bool]:
    """(first page or offset, size, by offset?) from the arguments given."""
    if limit is None and offset is None:
        return (1 if page is None else page, 20 if size is None else size, False)
    if page is not None or size is not None:
        raise TypeError("paginate() takes page and size, or limit and offset, not both.")
    return (0 if offset is None else offset, 20 if limit is None else limit, True)


async def _paginate_async(db: _SAAsyncSession, query: _Query) -> Page[Any] | OffsetPage[Any]:
    total = (await db.execute(query.count)).scalar_one()
    result = await db.execute(query.items)
    items = result.scalars().all() if query.scalar else result.mappings().all()
    return query.page_of(items, total)
