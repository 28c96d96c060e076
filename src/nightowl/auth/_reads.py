"""Reads on the request path in one round trip each: no ``BEGIN`` or ``ROLLBACK``.

Loading the user of a session or a token is a single ``SELECT``, which
:class:`nightowl.db.Reader` runs outside any transaction; :func:`nightowl.db.read_session`
gives an ``AsyncSession`` that reads the same way.

:class:`UserRows` reads users as plain rows (the columns of the user's table) and makes
the user object from one, without an ORM session and its identity map: what the
authenticators need, for a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Column, Table, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DataError
from sqlalchemy.orm import make_transient_to_detached

from nightowl.db import Reader, read_session

if TYPE_CHECKING:
    from nightowl.auth.models import AbstractUser
    from nightowl.sessions import SessionBackend

__all__ = ["UserLookup", "UserRows"]


class UserRows:
    """The user model's table read as rows, and users made from them.

    Args:
        model: the user model (a mapped subclass of ``AbstractUser``).

    Attributes:
        table: the user model's table.
        key: its primary key column.
        columns: every column of the table, in the order :meth:`build` takes them.
        joinable: whether a user is one row of ``table`` (no mapper inheritance), so
            that :meth:`build` can make it; else the user is loaded by the ORM.
    """

    def __init__(self, model: type[AbstractUser]) -> None:
        mapper = sa_inspect(model)
        self.model = model
        self.table: Any = mapper.local_table
        table = cast("Table", self.table)
        keys = list(table.primary_key.columns)
        self.key: Column[Any] = keys[0]
        self.columns: list[Column[Any]] = list(table.columns)
        self._key_index = self.columns.index(self.key)
        self._manager = mapper.class_manager
        self.joinable = mapper.inherits is None and mapper.polymorphic_on is None and len(keys) == 1
        self._attributes: list[str] | None = None

    def attributes(self) -> list[str] | None:
        """The attribute of each column, when the columns are all the model's columns
        (read at the first request, once the mappers are configured)."""
        if self._attributes is None and self.joinable:
            mapper = sa_inspect(self.model)
            properties = list(mapper.column_attrs)
            try:
                names = [mapper.get_property_by_column(column).key for column in self.columns]
            except Exception:  # a column the model does not map
                names = []
            if len(names) != len(self.columns) or len(set(names)) != len(properties):
                self.joinable = False  # column_property() and the like: the ORM loads it
                return None
            self._attributes = names
        return self._attributes

    def ident(self, values: Sequence[Any]) -> Any:
        """The primary key in a row of :attr:`columns`."""
        return values[self._key_index]

    def build(self, values: Sequence[Any]) -> AbstractUser | None:
        """The user of a row of :attr:`columns`, detached as if its session had closed;
        ``None`` when the model is not :attr:`joinable`."""
        names = self.attributes()
        if names is None:
            return None
        user: AbstractUser = self._manager.new_instance()
        user.__dict__.update(zip(names, values, strict=True))
        make_transient_to_detached(user)
        return user


class UserLookup:
    """Users by id, or from a row read with something else (a session, a token), on the
    request path: what ``Auth.get_user`` and ``Auth.user_from_row`` do."""

    def __init__(self, database: Any, model: type[AbstractUser]) -> None:
        self.database = database
        self.model = model
        self.reader = Reader(database)
        self.rows = UserRows(model)
        self._query = select(*self.rows.columns).where(self.rows.key == bindparam("user_id"))

    def join_sessions(self, backend: SessionBackend | None, name: str, key: str) -> None:
        """Ask a database session backend to read the user whose id the session keeps
        under ``key`` with the session, in the same query, as ``session.joined[name]``."""
        from nightowl.sessions import SessionJoin

        rows = self.rows
        if backend is not None and rows.joinable:
            backend.join(SessionJoin(name, key, rows.table, rows.key, rows.columns))

    async def get(self, user_id: Any) -> AbstractUser | None:
        """The user with this id, or ``None`` (one query)."""
        try:
            ident = int(user_id)
        except (TypeError, ValueError):
            return None
        try:
            row = await self.reader.first(self._query, {"user_id": ident})
        except DataError:  # not an id of the column's type (too large): no such user
            return None
        return await self.from_row(row) if row is not None else None

    async def from_row(self, values: Sequence[Any]) -> AbstractUser | None:
        """The user of a row of ``self.rows.columns``."""
        user = self.rows.build(values)
        if user is not None:
            return user
        # A model the row does not make (mapper inheritance...): the ORM loads it.
        async with read_session(self.database) as session:
            found: AbstractUser | None = await session.get(self.model, self.rows.ident(values))
            return found
