"""The change list's sidebar filters: booleans, enums and choices, foreign keys, dates.

Each filter owns query parameters (``published``, ``author``, ``created_at__gte``...);
a value it cannot read is a :class:`BadParameter` (a 400), never SQL.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Date, DateTime, Enum, select
from sqlalchemy.orm import RelationshipProperty

from nightowl.admin._fields import Path, column_type, label, resolve
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["BadParameter", "Choice", "ListFilter", "make_filter"]


class BadParameter(ValueError):
    """A query parameter the change list cannot read: answered with a 400."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One link of a filter: its text and the parameters it sets (``None`` removes one)."""

    text: str
    params: dict[str, str | None]
    selected: bool


class ListFilter:
    """A filter of the change list on one field path."""

    kind = "field"

    def __init__(self, admin: Any, path: Path) -> None:
        self.admin = admin
        self.path = path
        self.name = path.name
        self.title = label(path.name)

    @property
    def params(self) -> tuple[str, ...]:
        """The query parameters this filter reads."""
        return (self.name,)

    def clause(self, values: dict[str, str]) -> ColumnElement[bool] | None:
        """The ``WHERE`` condition for the values of :attr:`params` given (a subset)."""
        value = values.get(self.name)
        if value is None:
            return None
        parsed = self.parse(value)
        return self.path.where(lambda column: column == parsed)

    def parse(self, value: str) -> Any:
        """The typed value of a parameter."""
        raise NotImplementedError

    def static_choices(self) -> list[tuple[str, str]]:
        """``(value, text)`` of each choice, when known without a query."""
        return []

    async def choices(self, session: Any, current: dict[str, str]) -> list[Choice]:
        """The links to show, the selected one marked."""
        found = self.static_choices() or await self.load_choices(session)
        chosen = current.get(self.name)
        links = [Choice("All", {self.name: None}, chosen is None)]
        links.extend(Choice(text, {self.name: value}, chosen == value) for value, text in found)
        return links

    async def load_choices(self, session: Any) -> list[tuple[str, str]]:
        """Choices read from the database (foreign keys)."""
        return []


class BooleanFilter(ListFilter):
    """``?published=1`` / ``?published=0``."""

    kind = "boolean"

    def parse(self, value: str) -> bool:
        if value not in ("0", "1"):
            raise BadParameter(f"{self.name} is 0 or 1, not {value!r}.")
        return value == "1"

    def static_choices(self) -> list[tuple[str, str]]:
        return [("1", "Yes"), ("0", "No")]


class EnumFilter(ListFilter):
    """``?status=draft``: the column's enum members (or string choices)."""

    kind = "choices"

    def __init__(self, admin: Any, path: Path) -> None:
        super().__init__(admin, path)
        column = column_type(path)
        self.enum_class: type[enum.Enum] | None = column.enum_class
        if self.enum_class is not None:
            self.values = {str(m.value): m for m in self.enum_class}
            self.labels = {
                str(m.value): getattr(m, "label", None) or str(m.value) for m in self.enum_class
            }
        else:
            self.values = {str(v): v for v in column.enums}
            self.labels = {str(v): str(v) for v in column.enums}

    def parse(self, value: str) -> Any:
        if value not in self.values:
            raise BadParameter(f"{self.name} is one of {', '.join(self.values)}, not {value!r}.")
        return self.values[value]

    def static_choices(self) -> list[tuple[str, str]]:
        return list(self.labels.items())


class RelatedFilter(ListFilter):
    """``?author=3``: a many-to-one relationship, by the related row's primary key."""

    kind = "related"

    def __init__(self, admin: Any, path: Path) -> None:
        super().__init__(admin, path)
        rel = path.final
        assert isinstance(rel, RelationshipProperty)
        self.target = rel.mapper.class_
        self.target_pk = rel.mapper.primary_key[0]
        self.pk_type = self.target_pk.type.python_type

    def parse(self, value: str) -> Any:
        try:
            return self.pk_type(value)
        except (TypeError, ValueError):
            raise BadParameter(f"{self.name} is an id, not {value!r}.") from None

    def clause(self, values: dict[str, str]) -> ColumnElement[bool] | None:
        value = values.get(self.name)
        if value is None:
            return None
        parsed = self.parse(value)
        pk = self.target_pk
        final = self.path.final
        attribute = getattr(final.parent.class_, final.key)
        clause = attribute.any(pk == parsed) if final.uselist else attribute.has(pk == parsed)
        for rel in reversed(self.path.relationships):
            outer = getattr(rel.parent.class_, rel.key)
            clause = outer.any(clause) if rel.uselist else outer.has(clause)
        return clause  # type: ignore[no-any-return]

    async def load_choices(self, session: Any) -> list[tuple[str, str]]:
        limit = self.admin.fk_choices_limit
        rows = (await session.scalars(select(self.target).limit(limit))).all()
        key = self.target_pk
        mapper_key = type(rows[0]).__mapper__.get_property_by_column(key).key if rows else ""
        return [(str(getattr(row, mapper_key)), str(row)) for row in rows]


class DateFilter(ListFilter):
    """``?created_at__gte=2026-01-01&created_at__lt=2026-02-01``, with links for today,
    the past 7 days, this month and this year."""

    kind = "date"

    @property
    def params(self) -> tuple[str, ...]:
        return (f"{self.name}__gte", f"{self.name}__lt")

    def parse(self, value: str) -> Any:
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            raise BadParameter(f"{self.name} takes a date (YYYY-MM-DD), not {value!r}.") from None
        if isinstance(column_type(self.path), DateTime):
            return datetime.datetime.combine(day, datetime.time())
        return day

    def clause(self, values: dict[str, str]) -> ColumnElement[bool] | None:
        from sqlalchemy import and_

        low, high = values.get(self.params[0]), values.get(self.params[1])
        parts = []
        if low is not None:
            start = self.parse(low)
            parts.append(self.path.where(lambda column: column >= start))
        if high is not None:
            end = self.parse(high)
            parts.append(self.path.where(lambda column: column < end))
        return and_(*parts) if parts else None

    async def choices(self, session: Any, current: dict[str, str]) -> list[Choice]:
        today = datetime.date.today()
        tomorrow = today + datetime.timedelta(days=1)
        month = today.replace(day=1)
        next_month = (month + datetime.timedelta(days=32)).replace(day=1)
        year = today.replace(month=1, day=1)
        ranges = [
            ("Any date", None, None),
            ("Today", today, tomorrow),
            ("Past 7 days", today - datetime.timedelta(days=7), tomorrow),
            ("This month", month, next_month),
            ("This year", year, year.replace(year=year.year + 1)),
        ]
        low, high = current.get(self.params[0]), current.get(self.params[1])
        links = []
        for text, start, end in ranges:
            params = {
                self.params[0]: start.isoformat() if start else None,
                self.params[1]: end.isoformat() if end else None,
            }
            links.append(
                Choice(
                    text, params, (low, high) == (params[self.params[0]], params[self.params[1]])
                )
            )
        return links


def make_filter(admin: Any, name: str, where: str = "") -> ListFilter:
    """The filter for ``list_filter`` entry ``name``."""
    where = where or f"{type(admin).__name__} of {admin.model.__name__}"
    try:
        path = resolve(admin.model, name)
    except KeyError:
        raise ImproperlyConfigured(
            f"{where}: list_filter names {name!r}, which is no field of {admin.model.__name__}."
        ) from None
    if isinstance(path.final, RelationshipProperty):
        return RelatedFilter(admin, path)
    kind = column_type(path)
    if isinstance(kind, Boolean):
        return BooleanFilter(admin, path)
    if isinstance(kind, Enum):
        return EnumFilter(admin, path)
    if isinstance(kind, (Date, DateTime)):
        return DateFilter(admin, path)
    raise ImproperlyConfigured(
        f"{where}: list_filter {name!r} is not a boolean, enum, relationship or date field."
    )
