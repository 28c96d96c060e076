"""The declarative base: naming convention, table names, ``repr`` and pydantic hooks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import BaseModel
from pydantic_core import SchemaSerializer, core_schema
from sqlalchemy import MetaData, String
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import DeclarativeBase, declared_attr
from sqlalchemy.orm import mapped_column as sa_mapped_column

if TYPE_CHECKING:
    from typing import Self

    from pydantic import GetCoreSchemaHandler
    from sqlalchemy.orm import MappedColumn

__all__ = ["NAMING_CONVENTION", "Model", "mapped_column", "table_name"]

#: Constraint names that do not depend on the database, so migrations are deterministic
#: and an integrity error can be traced back to its columns.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def table_name(class_name: str) -> str:
    """The default table name of a model class: ``BlogPost`` -> ``blog_post``."""
    return _WORD_BOUNDARY.sub("_", class_name).lower()


def mapped_column(
    *args: Any, private: bool = False, read_only: bool = False, **kwargs: Any
) -> MappedColumn[Any]:
    """SQLAlchemy's ``mapped_column()``, plus two flags for the derived schemas.

    Args:
        private: never part of an output schema (``read`` and custom ones): password
            hashes, tokens. Same as ``info={"private": True}``.
        read_only: never part of an input schema (``create``, ``update``, ``patch``):
            values the server sets. Same as ``info={"read_only": True}``.

    ::

        class User(Model):
            id: Mapped[int] = mapped_column(primary_key=True)
            password_hash: Mapped[str] = mapped_column(private=True)
    """
    if private or read_only:
        info = dict(kwargs.get("info") or {})
        if private:
            info["private"] = True
        if read_only:
            info["read_only"] = True
        kwargs["info"] = info
    return sa_mapped_column(*args, **kwargs)


class _Serializer:
    """``__pydantic_serializer__`` of model instances: JSON through the ``read`` schema.

    pydantic's ``to_json`` uses it, so an ORM object returned by a handler without a
    return annotation is serialised like ``-> User`` would be, private columns left out.
    """

    def __get__(self, instance: object, owner: type[Model]) -> SchemaSerializer:
        cached: SchemaSerializer | None = owner.__dict__.get("_nightowl_serializer")
        if cached is not None:
            return cached
        schema = owner.schema("read")

        def dump(value: Any) -> Any:
            return schema.model_validate(value, from_attributes=True).model_dump(mode="json")

        serializer = SchemaSerializer(
            core_schema.any_schema(
                serialization=core_schema.plain_serializer_function_ser_schema(dump)
            )
        )
        type.__setattr__(owner, "_nightowl_serializer", serializer)
        return serializer


class Model(DeclarativeBase):
    """The base class of nightowl models: a SQLAlchemy 2 declarative base.

    ::

        class BlogPost(Model):                    # table "blog_post"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str] = mapped_column(String(200))

    - constraints are named by :data:`NAMING_CONVENTION`;
    - ``__tablename__`` defaults to the class name in snake case;
    - ``repr()`` shows the primary key and a few columns;
    - :meth:`schema` derives pydantic models (``create``, ``update``, ``patch``, ``read``);
    - ``-> User`` as a return annotation, or returning a ``User`` with none, serialises
      through ``User.schema("read")``.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # MySQL and MariaDB need a length for VARCHAR; elsewhere ``Mapped[str]`` stays unbounded.
    type_annotation_map = {str: String().with_variant(String(255), "mysql", "mariadb")}

    __pydantic_serializer__: ClassVar[Any] = _Serializer()

    @declared_attr.directive
    def __tablename__(cls) -> str | None:
        """``BlogPost`` -> ``blog_post``; a subclass without its own primary key shares its
        parent's table (single-table inheritance)."""
        klass = cast("type[Model]", cls)
        for base in klass.__mro__[1:]:
            if base is not Model and "__table__" in base.__dict__:
                if not _declares_primary_key(klass):
                    return None
                break
        return table_name(klass.__name__)

    def __repr__(self) -> str:
        state = sa_inspect(self)
        mapper = state.mapper
        shown: list[str] = []
        keys = [c.key for c in mapper.column_attrs]
        primary = {mapper.get_property_by_column(c).key for c in mapper.primary_key}
        ordered = [k for k in keys if k in primary] + [k for k in keys if k not in primary]
        for key in ordered:
            prop = mapper.attrs[key]
            if any(c.info.get("private") for c in getattr(prop, "columns", ())):
                continue
            if key in state.unloaded:
                continue
            value = state.dict.get(key)
            text = repr(value)
            shown.append(f"{key}={text[:40] + '...' if len(text) > 43 else text}")
            if len(shown) == 4:
                break
        return f"<{type(self).__name__} {' '.join(shown)}>" if shown else f"<{type(self).__name__}>"

    @classmethod
    def schema(
        cls,
        kind: str = "read",
        *,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        name: str | None = None,
    ) -> type[BaseModel]:
        """A pydantic model derived from this model's columns (built once, then cached).

        Args:
            kind: ``"read"`` (output: every column but private ones), ``"create"``
                (input: generated primary keys and read-only columns left out, columns
                with defaults optional), ``"update"`` (like create, without primary keys),
                or ``"patch"`` (every field optional; apply with :meth:`apply`).
            include: only these fields; for ``read``, relationship names are allowed too
                and nest the related model's ``read`` schema (load them eagerly).
            exclude: leave these fields out.
            name: the schema's name in OpenAPI; derived from the model, the kind and the
                fields when not given (``UserRead``, ``UserCreate``...).

        ::

            UserCreate = User.schema("create")
            UserPublic = User.schema(exclude=["email"], name="UserPublic")
        """
        from nightowl.db._schemas import derive_schema

        return derive_schema(cls, kind, include=include, exclude=exclude, name=name)

    @classmethod
    def from_schema(cls, data: BaseModel | Mapping[str, Any], **extra: Any) -> Self:
        """A new instance from validated input (fields the client left out keep their defaults).

        ``extra`` sets further attributes: ``Post.from_schema(body, author_id=user.id)``.
        """
        values = _values(data)
        values.update(extra)
        return cls(**values)

    def apply(self, data: BaseModel | Mapping[str, Any]) -> Self:
        """Set the fields that ``data`` carries (for a patch, only the ones the client sent)."""
        for key, value in _values(data).items():
            setattr(self, key, value)
        return self

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """``-> User`` validates and documents through ``User.schema("read")``."""
        return handler.generate_schema(cls.schema("read"))


def _values(data: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        return {key: getattr(data, key) for key in data.model_fields_set}
    return dict(data)


def _declares_primary_key(cls: type) -> bool:
    for value in cls.__dict__.values():
        column = getattr(value, "column", None)
        if column is not None and getattr(column, "primary_key", False):
            return True
    return False
