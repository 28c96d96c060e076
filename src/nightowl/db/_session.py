"""Sessions: ``get_or_404``, a guard that names the relationship instead of MissingGreenlet,
and the bridge that async handlers taking an :class:`AsyncSession` run in."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar, cast

from greenlet import GreenletExit, getcurrent  # type: ignore[import-untyped]
from sqlalchemy import Executable, Select, select
from sqlalchemy import orm as sa_orm
from sqlalchemy.engine import Result
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.util.concurrency import await_, greenlet_spawn

from nightowl.exceptions import HTTPException
from nightowl.types import MISSING

__all__ = [
    "NO_OPTIONS",
    "AsyncSession",
    "LazyLoadError",
    "Session",
    "prebuffered",
    "run_in_bridge",
]

_T = TypeVar("_T")
_R = TypeVar("_R")
#: No execution options (a read-only default for the ``execute`` overrides).
NO_OPTIONS: Mapping[str, Any] = MappingProxyType({})


class LazyLoadError(RuntimeError):
    """An attribute of an object from an :class:`AsyncSession` was not loaded.

    Async code cannot load it on access; load it eagerly instead, with
    ``selectinload(Post.author)`` in the query or ``lazy="selectin"`` on the relationship.
    """


def _not_found(entity: Any, ident: Any, detail: str | None) -> HTTPException:
    name = getattr(entity, "__name__", str(entity))
    if isinstance(ident, dict) and ident:
        where = " and ".join(f"{key} {value!r}" for key, value in ident.items())
        return HTTPException(404, detail or f"No {name} with {where}.")
    return HTTPException(404, detail or f"No {name} with id {ident!r}.")


def _lookup(
    entity: Any, ident: Any, filters: Mapping[str, Any], options: Sequence[Any]
) -> Select[Any] | None:
    """The statement finding a row by ``filters`` (``None``: look ``ident`` up by key)."""
    if ident is MISSING and not filters:
        raise TypeError("get_or_404() needs a primary key or filters such as slug=...")
    if ident is not MISSING and filters:
        raise TypeError("get_or_404() takes a primary key or filters, not both.")
    if not filters:
        return None
    return select(entity).filter_by(**filters).options(*options)


def _first_not_found(statement: Select[Any], detail: str | None) -> HTTPException:
    entity = (
        statement.column_descriptions[0].get("entity") if statement.column_descriptions else None
    )
    name = getattr(entity, "__name__", None) or "row"
    return HTTPException(404, detail or f"No {name} matches.")


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
        ident: Any = MISSING,
        *,
        options: Sequence[Any] = (),
        detail: str | None = None,
        **filters: Any,
    ) -> _T:
        """``session.get(entity, ident)``, or a 404 problem when there is no such row.

        Instead of the primary key, give the values of unique columns:
        ``db.get_or_404(Article, slug=slug)``.

        Args:
            entity: the model class.
            ident: the primary key (a tuple or dict for composite keys).
            options: loader options, such as ``selectinload(User.posts)``.
            detail: the problem's detail (``"No User with id 3."`` by default).
            filters: column name -> value, matching at most one row.
        """
        statement = _lookup(entity, ident, filters, options)
        if statement is None:
            found = self.get(entity, ident, options=options)
        else:
            found = self.execute(statement).scalars().one_or_none()
        if found is None:
            raise _not_found(entity, filters or ident, detail)
        return found

    def first_or_404(self, statement: Select[_T], *, detail: str | None = None) -> _T:
        """The first row of ``statement`` (its first column), or a 404 problem when there is none.

        ::

            article = db.first_or_404(select(Article).where(Article.slug == slug))
        """
        found = self.execute(statement.limit(1)).scalars().first()
        if found is None:
            raise _first_not_found(statement, detail)
        return found


class _AsyncBackedSession(Session):
    """The sync session behind an :class:`AsyncSession`; lazy loads raise LazyLoadError.

    The async session runs its statements inside SQLAlchemy's greenlet bridge, where
    they can await. Anywhere else a statement (a lazy load on attribute access, in
    practice) would fail with ``MissingGreenlet``, and in a handler's own bridge (see
    :func:`run_in_bridge`) it would quietly block: outside the session's own calls,
    statements get the guard, as a ``do_orm_execute`` hook for that one call
    (``execute(_add_event=...)``, which SQLAlchemy's bulk updates use the same way, since
    1.4). A listener on the class would make SQLAlchemy build an ``ORMExecuteState`` and
    run ``orm_pre_session_exec`` twice for every statement; this costs one check instead.
    """

    #: How many calls of the :class:`AsyncSession` are running in a handler's bridge.
    _bridged_calls = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        current = getcurrent()
        if getattr(current, "__sqlalchemy_greenlet_provider__", False) and (
            self._bridged_calls or not getattr(current, _BRIDGE, False)
        ):
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


# -- the bridge -------------------------------------------------------------------------------
#: The attribute that marks the greenlet of a handler running in the bridge.
_BRIDGE = "_nightowl_bridge"


class _Suspend:
    """Awaiting it suspends the awaiting task exactly as ``value`` asked the coroutine to."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return (yield self.value)


def _drive(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` to its end inside this greenlet, handing what it waits for up.

    A coroutine only suspends by yielding (a future, or ``None`` for a bare yield) to
    whoever drives it, which is normally the task. Here each yield goes up the greenlet
    bridge to the task, and the outcome comes back down: a value is sent, an error
    (a cancellation among them) is thrown in where the coroutine waits.
    """
    setattr(getcurrent(), _BRIDGE, True)
    send: Any = coroutine.send
    value: Any = None
    while True:
        try:
            waiting_for = send(value)
        except StopIteration as stop:
            return stop.value
        try:
            value = await_(_Suspend(waiting_for))
            send = coroutine.send
        except GreenletExit:
            coroutine.close()
            raise
        except BaseException as exc:
            send, value = coroutine.throw, exc


async def run_in_bridge(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Await an ``async def`` handler's ``coroutine`` inside SQLAlchemy's greenlet bridge.

    The handler runs as usual (awaits, cancellation, context variables), but its
    :class:`AsyncSession` calls run the sync session directly: without it, every
    ``await db.get(...)`` starts a greenlet of its own to reach the driver, some 15% of
    the CPU time of a primary-key query. The database battery installs it for handlers
    that take an ``AsyncSession`` (``app.provide(AsyncSession, ..., runner=...)``).
    """
    return await greenlet_spawn(_drive, coroutine)


def prebuffered(execution_options: Mapping[str, Any]) -> dict[str, Any]:
    """``execution_options`` with the rows fetched at once, as an async session's results are."""
    return {**execution_options, "prebuffer_rows": True}


def _in_bridge() -> bool:
    return getattr(getcurrent(), _BRIDGE, False)


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
    sync_session: _AsyncBackedSession

    # In a handler's bridge (run_in_bridge) the statement methods call the sync session
    # directly; elsewhere they are SQLAlchemy's, which reach it through a greenlet each.
    async def get(self, entity: Any, ident: Any, **options: Any) -> Any:
        """``Session.get()``: the object with primary key ``ident``, or ``None``."""
        if not _in_bridge():
            return await super().get(entity, ident, **options)
        return self._direct(self.sync_session.get, entity, ident, **options)

    async def execute(
        self,
        statement: Executable,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] = NO_OPTIONS,
        bind_arguments: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Result[Any]:
        """``Session.execute()``, with the rows fetched before it returns (as SQLAlchemy's
        async session does; ``stream()`` is for results read as they come)."""
        if not _in_bridge() or execution_options.get("stream_results"):
            return await super().execute(
                statement,
                params,
                execution_options=execution_options,
                bind_arguments=bind_arguments,
                **kw,
            )
        result: Result[Any] = self._direct(
            self.sync_session.execute,
            statement,
            params,
            execution_options=prebuffered(execution_options),
            bind_arguments=bind_arguments,
            **kw,
        )
        return result

    async def scalar(
        self,
        statement: Executable,
        params: Any = None,
        *,
        execution_options: Mapping[str, Any] = NO_OPTIONS,
        bind_arguments: dict[str, Any] | None = None,
        **kw: Any,
    ) -> Any:
        """``Session.scalar()``: the first column of the first row, or ``None``."""
        if not _in_bridge():
            return await super().scalar(
                statement,
                params,
                execution_options=execution_options,
                bind_arguments=bind_arguments,
                **kw,
            )
        return self._direct(
            self.sync_session.scalar,
            statement,
            params,
            execution_options=prebuffered(execution_options),
            bind_arguments=bind_arguments,
            **kw,
        )

    def _direct(self, method: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        """``method(...)`` of the sync session, called in the bridge as the session's own."""
        sync = self.sync_session
        sync._bridged_calls += 1
        try:
            return method(*args, **kwargs)
        finally:
            sync._bridged_calls -= 1

    async def get_or_404(
        self,
        entity: type[_T],
        ident: Any = MISSING,
        *,
        options: Sequence[Any] = (),
        detail: str | None = None,
        **filters: Any,
    ) -> _T:
        """``await session.get(entity, ident)``, or a 404 problem when there is no such row
        (``slug=...`` and other unique columns instead of ``ident``, as :meth:`Session.get_or_404`)."""
        statement = _lookup(entity, ident, filters, options)
        found: _T | None
        if statement is None:
            found = await self.get(entity, ident, options=options)
        else:
            found = (await self.execute(statement)).scalars().one_or_none()
        if found is None:
            raise _not_found(entity, filters or ident, detail)
        return found

    async def first_or_404(self, statement: Select[_T], *, detail: str | None = None) -> _T:
        """The first row of ``statement``, or a 404 problem (see :meth:`Session.first_or_404`)."""
        found = (await self.execute(statement.limit(1))).scalars().first()
        if found is None:
            raise _first_not_found(statement, detail)
        return cast(_T, found)
