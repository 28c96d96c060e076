"""Field paths of a model (``title``, ``author``, ``author__email``): what a
``list_display`` column shows and sorts by, what ``search_fields`` search, and the
checks that turn a misspelt option into an error when the model is registered."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import Boolean, ColumnElement, and_, or_
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, selectinload
from sqlalchemy.orm.strategy_options import _AbstractLoad

__all__ = ["ListColumn", "Path", "list_column", "list_columns", "resolve", "search_clause"]

EMPTY = "—"


@dataclass(frozen=True, slots=True)
class Path:
    """A resolved ``a__b__c``: the relationships walked, then the final attribute."""

    name: str
    relationships: tuple[RelationshipProperty[Any], ...]
    final: ColumnProperty[Any] | RelationshipProperty[Any]

    @property
    def is_column(self) -> bool:
        """The path ends on a column (else on a relationship)."""
        return isinstance(self.final, ColumnProperty)

    @property
    def attribute(self) -> Any:
        """The final class attribute (``User.email``)."""
        return getattr(self.final.parent.class_, self.final.key)

    def loader(self) -> _AbstractLoad | None:
        """``selectinload`` along the relationships (and the final one), or ``None``."""
        chain = list(self.relationships)
        if isinstance(self.final, RelationshipProperty):
            chain.append(self.final)
        if not chain:
            return None
        option = selectinload(getattr(chain[0].parent.class_, chain[0].key))
        for rel in chain[1:]:
            option = option.selectinload(getattr(rel.parent.class_, rel.key))
        return option

    def value(self, obj: Any) -> Any:
        """The value at the end of the path for ``obj`` (``None`` past a missing relation)."""
        current = obj
        for rel in (*self.relationships, self.final):
            if current is None:
                return None
            current = getattr(current, rel.key)
        return current

    def where(self, condition: Callable[[Any], ColumnElement[bool]]) -> ColumnElement[bool]:
        """``condition(final attribute)``, wrapped in ``has()``/``any()`` for each relationship
        walked (an EXISTS: no join, no duplicated rows)."""
        clause = condition(self.attribute)
        for rel in reversed(self.relationships):
            attribute = getattr(rel.parent.class_, rel.key)
            clause = attribute.any(clause) if rel.uselist else attribute.has(clause)
        return clause


def resolve(model: type[Any], name: str) -> Path:
    """The :class:`Path` of ``name`` on ``model``; ``KeyError`` if there is none."""
    parts = name.split("__")
    mapper = sa_inspect(model)
    relationships: list[RelationshipProperty[Any]] = []
    for index, part in enumerate(parts):
        prop = mapper.attrs.get(part)
        last = index == len(parts) - 1
        if isinstance(prop, RelationshipProperty):
            if last:
                return Path(name, tuple(relationships), prop)
            relationships.append(prop)
            mapper = prop.mapper
        elif isinstance(prop, ColumnProperty) and last:
            return Path(name, tuple(relationships), prop)
        else:
            raise KeyError(name)
    raise KeyError(name)  # pragma: no cover - an empty name


def column_type(path: Path) -> Any:
    """The SQLAlchemy type of a column path."""
    assert isinstance(path.final, ColumnProperty)
    return path.final.columns[0].type


def label(name: str) -> str:
    """``created_at`` -> ``Created at``; ``author__email`` -> ``Author email``."""
    return name.replace("__", " ").replace("_", " ").strip().capitalize()


_YES = Markup('<span class="bool bool-yes" aria-label="yes">✔</span>')
_NO = Markup('<span class="bool bool-no" aria-label="no">✘</span>')


def _show(value: Any) -> Any:
    if value is None:
        return EMPTY
    if value is True or value is False:
        return _YES if value else _NO
    if isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return getattr(value, "label", None) or str(value.value)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value) or EMPTY
    return str(value)


@dataclass(frozen=True, slots=True)
class ListColumn:
    """One column of the change list."""

    name: str
    title: str
    getter: Callable[[Any], Any]
    order_by: Any  # a column expression to sort by, or None
    loader: _AbstractLoad | None

    def cell(self, obj: Any) -> Any:
        """What the cell shows for ``obj``: text (escaped by the template) or a flag."""
        return _show(self.getter(obj))


def _callable_column(admin: Any, name: str, func: Callable[..., Any], bound: bool) -> ListColumn:
    title = getattr(func, "short_description", None) or label(getattr(func, "__name__", name))
    order = getattr(func, "admin_order_field", None)
    order_by = None
    if order:
        path = resolve(admin.model, order.lstrip("-"))
        order_by = path.attribute if path.is_column and not path.relationships else None
    getter: Callable[[Any], Any] = func
    return ListColumn(name, str(title), getter, order_by, None)


def list_column(admin: Any, entry: Any) -> ListColumn:
    """The :class:`ListColumn` of one ``list_display`` entry."""
    model = admin.model
    if callable(entry):
        name = getattr(entry, "__name__", repr(entry))
        return _callable_column(admin, name, entry, bound=False)
    if not isinstance(entry, str):
        raise KeyError(repr(entry))
    if entry == "__str__":
        return ListColumn(entry, admin.name.capitalize(), str, None, None)
    try:
        path = resolve(model, entry)
    except KeyError:
        # The admin's own methods, not its dunders (``__repr__`` is the model's).
        method = None if entry.startswith("__") else getattr(admin, entry, None)
        if callable(method):
            return _callable_column(admin, entry, method, bound=True)
        attribute = getattr(model, entry, None)
        if attribute is None:
            raise
        doc_title = getattr(attribute, "short_description", None) or label(entry)

        def read(obj: Any) -> Any:
            value = getattr(obj, entry)
            return value() if callable(value) else value

        return ListColumn(entry, str(doc_title), read, None, None)
    sortable = path.is_column and not path.relationships
    order_by = path.attribute if sortable else None
    if not path.is_column and not path.relationships and not path.final.uselist:
        # A many-to-one shown as its object: sort by the foreign key column.
        local = list(path.final.local_columns)
        order_by = getattr(model, path.final.parent.get_property_by_column(local[0]).key)
    return ListColumn(entry, label(entry), path.value, order_by, path.loader())


def list_columns(admin: Any) -> list[ListColumn]:
    """The change list's columns (worked out once per admin)."""
    cached: list[ListColumn] | None = admin.__dict__.get("_list_columns")
    if cached is None:
        cached = admin.__dict__["_list_columns"] = [
            list_column(admin, entry) for entry in admin.list_display
        ]
    return cached


def search_clause(model: type[Any], fields: Sequence[str], text: str) -> ColumnElement[bool] | None:
    """Every word of ``text`` in at least one of ``fields`` (``icontains``), or ``None``."""
    paths = [resolve(model, name) for name in fields]
    clauses = [or_(*(path.where(_contains(word)) for path in paths)) for word in text.split()]
    return and_(*clauses) if clauses and paths else None


def _contains(word: str) -> Callable[[Any], ColumnElement[bool]]:
    def condition(column: Any) -> ColumnElement[bool]:
        return column.icontains(word, autoescape=True)  # type: ignore[no-any-return]

    return condition


def is_boolean(path: Path) -> bool:
    """The path ends on a boolean column."""
    return path.is_column and isinstance(column_type(path), Boolean)
