"""The add and change forms: derived from the model's schemas (the same that validate
the API, so both agree on what is valid), with foreign keys as selects and
many-to-many relationships as multiple selects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import String, Text, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty

from nightowl.admin._fields import label
from nightowl.exceptions import ImproperlyConfigured
from nightowl.templating._fieldspecs import display
from nightowl.templating.forms import ModelForm

if TYPE_CHECKING:
    from nightowl.admin._options import ModelAdmin
    from nightowl.requests import Request

__all__ = ["AdminForm", "FormField", "fk_columns", "layout"]


@dataclass(slots=True)
class FormField:
    """One field of the page: an input of the form, a select of related rows, or a
    read-only value."""

    name: str
    label: str
    kind: str  # "input", "fk", "m2m", "readonly"
    bound: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    chosen: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    value: Any = None
    required: bool = False


def _relationships(model_admin: ModelAdmin) -> dict[str, RelationshipProperty[Any]]:
    return {rel.key: rel for rel in sa_inspect(model_admin.model).relationships}


def fk_columns(model_admin: ModelAdmin) -> dict[str, RelationshipProperty[Any]]:
    """Foreign-key attribute (``author_id``) -> its many-to-one relationship (``author``)."""
    mapper = sa_inspect(model_admin.model)
    out = {}
    for rel in mapper.relationships:
        if rel.uselist or rel.secondary is not None or len(rel.local_columns) != 1:
            continue
        column = next(iter(rel.local_columns))
        if column.foreign_keys:
            out[mapper.get_property_by_column(column).key] = rel
    return out


def layout(model_admin: ModelAdmin, schema_fields: list[str]) -> list[tuple[str | None, list[str]]]:
    """The fieldsets, as ``(title, names)``: ``fieldsets``, else ``fields``, else every
    editable column and many-to-many relationship, then the read-only fields."""
    if model_admin.fieldsets:
        return [
            (title, list(options.get("fields", ()))) for title, options in model_admin.fieldsets
        ]
    if model_admin.fields is not None:
        return [(None, list(model_admin.fields))]
    m2m = [k for k, rel in _relationships(model_admin).items() if rel.secondary is not None]
    names = [n for n in schema_fields if n not in model_admin.exclude]
    names += [n for n in m2m if n not in model_admin.exclude]
    names += [n for n in model_admin.readonly_fields if n not in names]
    return [(None, names)]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a model admin's add or change form is made of (worked out once)."""

    fk: dict[str, RelationshipProperty[Any]]
    sections: list[tuple[str | None, list[str]]]
    m2m: dict[str, RelationshipProperty[Any]]
    readonly: frozenset[str]
    schema: type[BaseModel]


def _shape(model_admin: ModelAdmin, adding: bool) -> _Shape:
    """The form's shape for ``model_admin``, computed on first use, then kept."""
    key = "_form_shape_add" if adding else "_form_shape_change"
    found: _Shape | None = model_admin.__dict__.get(key)
    if found is None:
        found = model_admin.__dict__[key] = _work_out_shape(model_admin, adding)
    return found


def _work_out_shape(model_admin: ModelAdmin, adding: bool) -> _Shape:
    model = model_admin.model
    kind = "create" if adding else "update"
    all_fields = list(model.schema(kind).model_fields)
    fk = fk_columns(model_admin)
    relationships = _relationships(model_admin)
    rel_to_fk = {rel.key: key for key, rel in fk.items()}
    sections: list[tuple[str | None, list[str]]] = []
    editable: list[str] = []
    m2m: dict[str, RelationshipProperty[Any]] = {}
    readonly = set(model_admin.readonly_fields)
    for title, names in layout(model_admin, all_fields):
        resolved = []
        for name in names:
            name = rel_to_fk.get(name, name)
            if name in readonly:
                resolved.append(name)
            elif name in all_fields:
                editable.append(name)
                resolved.append(name)
            elif name in relationships and relationships[name].secondary is not None:
                m2m[name] = relationships[name]
                resolved.append(name)
            elif name in model_admin.mapper.attrs and isinstance(
                model_admin.mapper.attrs[name], ColumnProperty
            ):
                readonly.add(name)  # a column no input schema has (generated, read-only)
                resolved.append(name)
            else:
                raise ImproperlyConfigured(
                    f"{type(model_admin).__name__}: the form names {name!r}, which is "
                    f"no editable field of {model.__name__}."
                )
        sections.append((title, resolved))
    schema = model.schema(kind, include=editable)
    return _Shape(fk, sections, m2m, frozenset(readonly), schema)


class AdminForm:
    """The form of one add or change page."""

    def __init__(self, model_admin: ModelAdmin, adding: bool) -> None:
        self.model_admin = model_admin
        self.adding = adding
        shape = _shape(model_admin, adding)
        self.fk = shape.fk
        self.sections = shape.sections
        self.m2m = shape.m2m
        self.readonly = shape.readonly
        self.schema = shape.schema
        self.form: ModelForm[Any] = ModelForm(self.schema)
        self.m2m_values: dict[str, list[str]] = {}

    # -- binding ------------------------------------------------------------------------------
    def initial(self, request: Request, obj: Any | None) -> None:
        """A blank form (adding) or one filled with ``obj``'s values."""
        values: dict[str, Any] = {}
        if obj is not None:
            values = {name: getattr(obj, name) for name in self.schema.model_fields}
            for name, rel in self.m2m.items():
                pk = rel.mapper.primary_key[0]
                key = rel.mapper.get_property_by_column(pk).key
                self.m2m_values[name] = [display(getattr(o, key)) for o in getattr(obj, name)]
        self.form = ModelForm(self.schema, request, initial=values)

    async def bind(self, request: Request, session: Any) -> dict[str, list[Any]]:
        """Validate the posted form; returns the related rows chosen for each many-to-many
        field (errors go into the form)."""
        data = await request.form()
        self.form = ModelForm(self.schema, request)
        self.form.bind(data)
        chosen: dict[str, list[Any]] = {}
        for name, rel in self.m2m.items():
            raw = [v for v in data.getlist(name) if isinstance(v, str) and v != ""]
            self.m2m_values[name] = raw
            chosen[name] = await self._related(session, rel, raw, name)
        if self.form.valid:
            for key, rel in self.fk.items():
                value = getattr(self.form.data, key, None)
                missing = value is not None and await session.get(rel.mapper.class_, value) is None
                if key in self.schema.model_fields and missing:
                    self.form.add_error(key, "Select a valid choice; that row does not exist.")
        return chosen

    async def _related(
        self, session: Any, rel: RelationshipProperty[Any], raw: list[str], name: str
    ) -> list[Any]:
        pk = rel.mapper.primary_key[0]
        try:
            keys = [pk.type.python_type(value) for value in raw]
        except (TypeError, ValueError):
            self.form.add_error(None, f"{label(name)}: select valid choices.")
            return []
        if not keys:
            return []
        rows = list((await session.scalars(select(rel.mapper.class_).where(pk.in_(keys)))).all())
        if len(rows) != len(set(keys)):
            self.form.errors.setdefault(name, []).append(
                "Select valid choices; a row does not exist."
            )
        return rows

    @property
    def valid(self) -> bool:
        """The posted values validated, and every chosen row exists."""
        return self.form.valid and not any(self.form.errors.get(n) for n in self.m2m)

    # -- showing ------------------------------------------------------------------------------
    async def fieldsets(self, session: Any, obj: Any | None) -> list[dict[str, Any]]:
        """What the template shows: ``{"title", "fields": [FormField...]}``."""
        bound = {b.name: b for b in self.form.fields}
        out = []
        for title, names in self.sections:
            fields = []
            for name in names:
                fields.append(await self._field(session, obj, name, bound))
            out.append({"title": title, "fields": fields})
        return out

    async def _field(
        self, session: Any, obj: Any | None, name: str, bound: dict[str, Any]
    ) -> FormField:
        errors = self.form.errors.get(name, [])
        if name in self.readonly:
            value = getattr(obj, name, None) if obj is not None else None
            if callable(value):
                value = value()
            method = getattr(self.model_admin, name, None)
            if obj is not None and callable(method):
                value = method(obj)
            return FormField(name, label(name), "readonly", value="—" if value is None else value)
        if name in self.m2m:
            rel = self.m2m[name]
            choices = await self._choices(session, rel)
            return FormField(
                name,
                label(name),
                "m2m",
                choices=choices,
                chosen=set(self.m2m_values.get(name, [])),
                errors=errors,
            )
        field_ = bound[name]
        if name in self.fk:
            rel = self.fk[name]
            if rel.key in self.model_admin.autocomplete_fields:
                return await self._autocomplete(session, obj, name, rel, field_, errors)
            choices = await self._choices(session, rel)
            if len(choices) < self.model_admin.fk_choices_limit:
                return FormField(
                    name,
                    label(rel.key),
                    "fk",
                    bound=field_,
                    choices=choices,
                    chosen={display(field_.value)},
                    errors=errors,
                    required=field_.spec.required,
                )
        kind = "textarea" if self._long_text(name) else "input"
        return FormField(name, field_.spec.label, kind, bound=field_, errors=errors)

    def _long_text(self, name: str) -> bool:
        prop = self.model_admin.mapper.attrs.get(name)
        if not isinstance(prop, ColumnProperty) or len(prop.columns) != 1:
            return False
        kind = getattr(prop.columns[0], "type", None)
        return isinstance(kind, Text) or (isinstance(kind, String) and not kind.length)

    async def _autocomplete(
        self,
        session: Any,
        obj: Any | None,
        name: str,
        rel: RelationshipProperty[Any],
        bound: Any,
        errors: list[str],
    ) -> FormField:
        """A select holding only the current row; the search box next to it fills it
        from the autocomplete endpoint."""
        current = display(bound.value)
        choices: list[tuple[str, str]] = []
        if current:
            row = _loaded_row(obj, rel, current)
            if row is None:
                key_type = rel.mapper.primary_key[0].type.python_type
                try:
                    row = await session.get(rel.mapper.class_, key_type(current))
                except (TypeError, ValueError):
                    row = None
            if row is not None:
                choices = [(current, str(row))]
        model_admin = self.model_admin
        url = model_admin.admin.url(
            model_admin.app_label, model_admin.model_name, "autocomplete", rel.key
        )
        return FormField(
            name,
            label(rel.key),
            "autocomplete",
            bound=bound,
            choices=choices,
            chosen={current},
            errors=errors,
            required=bound.spec.required,
            value=url + "/",
        )

    async def _choices(self, session: Any, rel: RelationshipProperty[Any]) -> list[tuple[str, str]]:
        target = rel.mapper.class_
        key = rel.mapper.get_property_by_column(rel.mapper.primary_key[0]).key
        limit = self.model_admin.fk_choices_limit
        query = select(target).order_by(getattr(target, key)).limit(limit)
        rows = (await session.scalars(query)).all()
        return [(display(getattr(row, key)), str(row)) for row in rows]

    # -- saving -------------------------------------------------------------------------------
    def apply(self, obj: Any, chosen: dict[str, list[Any]]) -> None:
        """Set every field of the form on ``obj`` (a cleared input clears the field)."""
        data = self.form.data
        for name in self.schema.model_fields:
            if self.adding and name not in data.model_fields_set:
                continue  # the column's own default applies
            setattr(obj, name, getattr(data, name))
        for name, rows in chosen.items():
            setattr(obj, name, rows)


def _loaded_row(obj: Any | None, rel: RelationshipProperty[Any], key: str) -> Any | None:
    """The row ``obj`` holds in ``rel`` when it was loaded with it (the change page joins
    it) and its key is ``key`` (the form may show another one, posted back)."""
    row = obj.__dict__.get(rel.key) if obj is not None else None
    if row is None:
        return None
    pk = rel.mapper.get_property_by_column(rel.mapper.primary_key[0]).key
    return row if display(getattr(row, pk, None)) == key else None
