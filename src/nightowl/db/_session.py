"""Sessions: ``get_or_404``, and a guard that names the relationship instead of MissingGreenlet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import orm as sa_orm
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.util.concurrency import in_greenlet

from nightowl.exceptions import HTTPException

__all__ = ["AsyncSession", "LazyLoadError", "Session"]

_T = TypeVar("_T")


class LazyLoadError(RuntimeError):
    """An attribute of an object from an :class:`AsyncSession` was not loaded.

    Async code cannot load it on access; load it eagerly instead, with
    ``selectinload(Post.author)`` in the query or ``lazy="selectin"`` on the relationship.
    """


def _not_found(entity: Any, ident: Any, detail: str | None) -> HTTPException:
    name = getattr(entity, "__name__", str(entity))
    return HTTPException(404, detail or f"No {name} with id {ident!r}.")


class Session(sa_orm.Session):
    """A SQLAlchemy ORM session with :meth:`get_or_404`.

    Annotate a sync handler's parameter with it to get the request's session::

        @app.get("/users/{user_id}")
        def get_user(user_id: int, db: Session) -> UserOut:
            return db.get_or_404(User, user_id)
    """

    def get_or_404(
        self,
        entity: type[_T],
        ident: Any,
        *,
        options: Sequence[Any] = (),
        detail: str | None = None,
    ) -> _T:
        """``session.get(entity, ident)``, or a 404 problem when there is no such row.

        Args:
            entity: the model class.
            ident: the primary key (a tuple or dict for composite keys).
            options: loader options, such as ``selectinload(User.posts)``.
            detail: the problem's detail (``"No User with id 3."`` by default).
        """
        found = self.get(entity, ident, options=options)
        if found is None:
            raise _not_found(entity, ident, detail)
        return found


class _AsyncBackedSession(Session):
    """The sync session behind an :class:`AsyncSession`; lazy loads raise LazyLoadError.

    The async session runs its statements inside SQLAlchemy's greenlet bridge, where
    they can await. Outside it, a statement (a lazy load on attribute access, in
    practice) would fail with ``MissingGreenlet``: only those statements get the guard,
    as a ``do_orm_execute`` hook for that one call (``execute(_add_event=...)``, which
    SQLAlchemy's bulk updates use the same way, since 1.4). A listener on the class
    would make SQLAlchemy build an ``ORMExecuteState`` and run ``orm_pre_session_exec``
    twice for every statement; this costs one ``in_greenlet()`` check instead.
    """

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if in_greenlet():
            return super().execute(*args, **kwargs)
        if kwargs.get("_add_event") is None:
            kwargs["_add_event"] = _guard_lazy_loads
        return super().execute(*args, **kwargs)


def _guard_lazy_loads(state: ORMExecuteState) -> None:
    """Raise :class:`LazyLoadError`, naming the attribute, for a lazy load outside the bridge."""
    if not (state.is_relationship_load or state.is_column_load):
        return
    path = state.loader_strategy_path
    where = "an attribute"
    if path is not None and len(path) > 1:
        where = str(path[-1])
    elif state.lazy_loaded_from is not None:
        where = f"an expired attribute of {state.lazy_loaded_from.class_.__name__}"
    raise LazyLoadError(
        f"{where} is not loaded, and async code cannot load it on access. Load it eagerly: "
        f"options(selectinload(...)) in the query, lazy='selectin' on the relationship, "
        f"or await session.refresh(obj, [...])."
    )


class AsyncSession(sa_asyncio.AsyncSession):
    """A SQLAlchemy asyncio session with :meth:`get_or_404`.

    Annotate an async handler's parameter with it to get the request's session::

        @app.get("/users/{user_id}")
        async def get_user(user_id: int, db: AsyncSession) -> UserOut:
            return await db.get_or_404(User, user_id)

    Touching an attribute that was not loaded raises :class:`LazyLoadError`, which names
    it, instead of SQLAlchemy's ``MissingGreenlet``.
    """

    sync_session_class = _AsyncBackedSession

    async def get_or_404(
        self,
        entity: type[_T],
        ident: Any,
        *,
        options: Sequence[Any] = (),
        detail: str | None = None,
    ) -> _T:
        """``await session.get(entity, ident)``, or a 404 problem when there is no such row."""
        found = await self.get(entity, ident, options=options)
        if found is None:
            raise _not_found(entity, ident, detail)
        return found
