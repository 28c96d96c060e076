"""Litestar + SQLAlchemy 2 (async ORM, asyncpg): one ``AsyncSession`` per request from a
``Provide`` generator dependency (Litestar's "SQLAlchemy without the plugin" pattern;
the advanced-alchemy plugin is not used). ``/updates`` commits in the handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Any

from litestar import Litestar, get
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apps.techempower import ADDITIONAL_FORTUNE, SCHEMA, DbConfig, clamp_queries, random_id

NOTES = "SQLAlchemy async ORM session from a Provide() generator dependency; asyncpg."
_by_message = attrgetter("message")


class Base(DeclarativeBase):
    """This app's declarative base."""


class World(Base):
    """A ``world`` row."""

    __tablename__ = "world"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Base):
    """A ``fortune`` row."""

    __tablename__ = "fortune"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


def build(config: DbConfig) -> Litestar:
    """The app, with its own engine (``app.state.engine``) and session factory."""
    engine = create_async_engine(
        config.asyncpg_url(), pool_size=config.pool_size, max_overflow=config.max_overflow
    )
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)

    async def provide_db() -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session

    @get("/db")
    async def single_query(db: AsyncSession) -> dict[str, Any]:
        world = await db.get(World, random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @get("/queries")
    async def queries(db: AsyncSession, queries: int = 1) -> list[dict[str, Any]]:
        rows = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            rows.append({"id": world.id, "randomNumber": world.randomnumber})
        return rows

    @get("/fortunes.json")
    async def fortunes_json(db: AsyncSession) -> list[dict[str, Any]]:
        fortunes = list(await db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return [{"id": f.id, "message": f.message} for f in fortunes]

    @get("/updates")
    async def updates(db: AsyncSession, queries: int = 1) -> list[dict[str, Any]]:
        worlds = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            worlds.append(world)
        for world in worlds:
            world.randomnumber = random_id()
        await db.commit()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]

    app = Litestar(
        [single_query, queries, fortunes_json, updates],
        dependencies={"db": Provide(provide_db)},
    )
    app.state.engine = engine
    return app


async def close(app: Litestar) -> None:
    """Close the engine's pooled connections."""
    engine: AsyncEngine = app.state.engine
    await engine.dispose()
