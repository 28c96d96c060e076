"""Inlines: the rows of a related model edited on the parent's change page, in a table
(:class:`TabularInline`) or one block each (:class:`StackedInline`)::

    class CommentInline(TabularInline):
        model = Comment
        fields = ["text"]
        extra = 1

    class PostAdmin(ModelAdmin):
        inlines = [CommentInline]

Each row is a form of the related model's schemas, named ``<relation>-<n>-<field>``;
existing rows carry their id and a ``DELETE`` box, blank extra rows are ignored. Rows
are saved in the parent's transaction, and their changes go into the parent's history
(``comments[3].text: ["old", "new"]``). Long lists are paginated (``per_page``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from nightowl.admin._fields import label
from nightowl.admin._history import diff, snapshot
from nightowl.exceptions import ImproperlyConfigured
from nightowl.templating.forms import ModelForm

if TYPE_CHECKING:
    from nightowl.requests import Request

__all__ = ["InlineFormSet", "InlineModelAdmin", "StackedInline", "TabularInline"]


class InlineModelAdmin:
    """The options of an inline: ``model`` (required), ``fields``, ``exclude``,
    ``extra`` (blank rows, 1), ``per_page`` (existing rows shown, 20), ``can_delete``,
    ``verbose_name_plural`` and ``fk_name`` (the relationship of the parent, when
    several lead to ``model``)."""

    model: ClassVar[type[Any]]
    fields: ClassVar[list[str] | None] = None
    exclude: ClassVar[list[str]] = []
    extra: ClassVar[int] = 1
    per_page: ClassVar[int] = 20
    can_delete: ClassVar[bool] = True
    verbose_name_plural: ClassVar[str | None] = None
    fk_name: ClassVar[str | None] = None
    template: ClassVar[str] = "tabular"

    def __init__(self, parent: type[Any]) -> None:
        if not isinstance(getattr(type(self), "model", None), type):
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model = ... attribute.")
        self.parent = parent
        self.relation = self._relation(parent)
        self.name = self.relation.key
        self.title = self.verbose_name_plural or label(self.name)
        mapper = sa_inspect(self.model)
        self.pk_key = mapper.get_property_by_column(mapper.primary_key[0]).key
        remote = [
            mapper.get_property_by_column(column).key
            for column in self.relation.remote_side
            if column.table is mapper.local_table
        ]
        self.fk_keys = remote
        editable = list(self.model.schema("update").model_fields)
        chosen = self.fields if self.fields is not None else editable
        self.field_names = [n for n in chosen if n not in self.exclude and n not in remote]
        unknown = [n for n in self.field_names if n not in editable]
        if unknown:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: no editable field {', '.join(unknown)} on "
                f"{self.model.__name__}."
            )
        self.schema = self.model.schema("update", include=self.field_names)

    def _relation(self, parent: type[Any]) -> RelationshipProperty[Any]:
        found: list[RelationshipProperty[Any]] = [
            rel
            for rel in sa_inspect(parent).relationships
            if rel.mapper.class_ is self.model
            and rel.uselist
            and rel.secondary is None
            and (self.fk_name is None or rel.key == self.fk_name)
        ]
        if len(found) != 1:
            raise ImproperlyConfigured(
                f"{type(self).__name__}: {parent.__name__} needs exactly one one-to-many "
                f"relationship to {self.model.__name__} (set fk_name to choose), found "
                f"{len(found)}."
            )
        return found[0]


class TabularInline(InlineModelAdmin):
    """An inline shown as a table, one row per related row."""

    template = "tabular"


class StackedInline(InlineModelAdmin):
    """An inline shown as one block of fields per related row."""

    template = "stacked"


@dataclass(slots=True)
class InlineRow:
    """One row of an inline: its form, the existing object (if any), deletion."""

    form: ModelForm[Any]
    obj: Any = None
    delete: bool = False
    blank: bool = False
    prefix: str = ""


@dataclass(slots=True)
class InlineFormSet:
    """The rows of one inline on one page."""

    inline: InlineModelAdmin
    rows: list[InlineRow] = field(default_factory=list)
    total: int = 0
    page: int = 1

    @property
    def pages(self) -> int:
        """How many pages of existing rows there are."""
        return max(1, -(-self.total // self.inline.per_page))

    def _prefix(self, index: int) -> str:
        return f"{self.inline.name}-{index}-"

    async def load(self, session: Any, request: Request, parent: Any | None) -> None:
        """The existing rows of ``parent`` (a page of them) and the blank extra rows."""
        inline = self.inline
        self.rows = []
        objects: list[Any] = []
        if parent is not None:
            wanted = request.query_params.get(f"{inline.name}-page", "1")
            self.page = int(wanted) if wanted.isdigit() and int(wanted) > 0 else 1
            condition = self._belongs(parent)
            self.total = int(
                await session.scalar(
                    select(func.count()).select_from(inline.model).where(condition)
                )
                or 0
            )
            pk = getattr(inline.model, inline.pk_key)
            query = (
                select(inline.model)
                .where(condition)
                .order_by(pk)
                .limit(inline.per_page)
                .offset((self.page - 1) * inline.per_page)
            )
            objects = list((await session.scalars(query)).all())
        for index, obj in enumerate(objects):
            initial = {name: getattr(obj, name) for name in inline.field_names}
            form = ModelForm(inline.schema, request, initial=initial, prefix=self._prefix(index))
            self.rows.append(InlineRow(form, obj, prefix=self._prefix(index)))
        for offset in range(inline.extra):
            index = len(objects) + offset
            form = ModelForm(inline.schema, request, prefix=self._prefix(index))
            self.rows.append(InlineRow(form, None, blank=True, prefix=self._prefix(index)))

    def _belongs(self, parent: Any) -> Any:
        rel = self.inline.relation
        clauses = []
        for local, remote in rel.local_remote_pairs:
            key = sa_inspect(parent).mapper.get_property_by_column(local).key
            clauses.append(remote == getattr(parent, key))
        from sqlalchemy import and_

        return and_(*clauses)

    async def _existing(
        self, session: Any, data: Any, parent: Any | None, count: int
    ) -> dict[str, Any]:
        """The posted rows' objects that belong to ``parent``, by their id as text."""
        inline = self.inline
        if parent is None:
            return {}
        ids = [data.get(f"{self._prefix(i)}{inline.pk_key}") for i in range(count)]
        keys = [i for i in ids if isinstance(i, str) and i]
        pk_type = sa_inspect(inline.model).primary_key[0].type.python_type
        try:
            typed = [pk_type(k) for k in keys]
        except (TypeError, ValueError):
            typed = []
        if not typed:
            return {}
        pk_column = getattr(inline.model, inline.pk_key)
        query = select(inline.model).where(self._belongs(parent), pk_column.in_(typed))
        rows = (await session.scalars(query)).all()
        return {str(getattr(o, inline.pk_key)): o for o in rows}

    async def bind(self, session: Any, request: Request, parent: Any | None) -> bool:
        """Read the posted rows; ``True`` when every row is valid."""
        data = await request.form()
        inline = self.inline
        self.rows = []
        count = _count(data.get(f"{inline.name}-TOTAL"))
        existing = await self._existing(session, data, parent, count)
        valid = True
        for index in range(count):
            prefix = self._prefix(index)
            ident = data.get(f"{prefix}{inline.pk_key}")
            obj = existing.get(ident) if isinstance(ident, str) else None
            if isinstance(ident, str) and ident and obj is None:
                continue  # not a row of this parent: ignored, never changed
            delete = (
                inline.can_delete and obj is not None and data.get(f"{prefix}DELETE") is not None
            )
            blank = obj is None and not any(
                data.get(f"{prefix}{name}") not in (None, "") for name in inline.field_names
            )
            form = ModelForm(inline.schema, request, prefix=prefix)
            row = InlineRow(form, obj, delete=delete, blank=blank, prefix=prefix)
            if not (blank or delete):
                form.bind(data)
                valid = valid and form.valid
            self.rows.append(row)
        return valid

    async def save(self, session: Any, parent: Any) -> dict[str, list[Any]]:
        """Apply the bound rows to ``parent``'s related rows; returns their changes for
        the parent's history."""
        inline = self.inline
        changes: dict[str, list[Any]] = {}
        for row in self.rows:
            if row.blank:
                continue
            if row.delete:
                changes[f"{inline.name}[-{getattr(row.obj, inline.pk_key)}]"] = [str(row.obj), None]
                await session.delete(row.obj)
                continue
            if row.obj is None:
                child = inline.model.from_schema(row.form.data)
                for local, remote in inline.relation.local_remote_pairs:
                    key = sa_inspect(parent).mapper.get_property_by_column(local).key
                    remote_key = sa_inspect(inline.model).mapper.get_property_by_column(remote).key
                    setattr(child, remote_key, getattr(parent, key))
                session.add(child)
                await session.flush()
                changes[f"{inline.name}[+{getattr(child, inline.pk_key)}]"] = [None, str(child)]
                continue
            before = snapshot(row.obj)
            for name in inline.field_names:
                setattr(row.obj, name, getattr(row.form.data, name))
            for key, change in diff(before, snapshot(row.obj)).items():
                changes[f"{inline.name}[{getattr(row.obj, inline.pk_key)}].{key}"] = change
        return changes

    def context(self) -> dict[str, Any]:
        """What the template shows."""
        inline = self.inline
        return {
            "name": inline.name,
            "title": inline.title,
            "template": inline.template,
            "pk_key": inline.pk_key,
            "can_delete": inline.can_delete,
            "total_forms": len(self.rows),
            "headers": [label(n) for n in inline.field_names],
            "rows": self.rows,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
        }


def _count(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        return min(int(value), 1000)
    return 0
