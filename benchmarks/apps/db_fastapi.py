"""FastAPI + SQLAlchemy 2 (async ORM, asyncpg): one ``AsyncSession`` per request from a
``Depends`` generator (``async with sessionmaker() as session: yield session``), as
FastAPI's documentation shows. ``/updates`` commits in the handler; ``/fortunes`` renders
``fortunes.html`` with ``fastapi.templating.Jinja2Templates``.

No ``from __future__ import annotations`` here: the ``Db`` alias is local to ``build``,
and FastAPI must see it as an object, not as a string to resolve.
"""

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apps.techempower import (
    ADDITIONAL_FORTUNE,
    SCHEMA,
    TEMPLATES_DIR,
    DbConfig,
    clamp_queries,
    random_id,
)

NOTES = "SQLAlchemy async ORM session from a Depends() generator; asyncpg."
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


def build(config: DbConfig) -> FastAPI:
    """The app, with its own engine (``app.state.engine``) and session factory."""
    engine = create_async_engine(
        config.asyncpg_url(), pool_size=config.pool_size, max_overflow=config.max_overflow
    )
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessionmaker() as session:
            yield session

    Db = Annotated[AsyncSession, Depends(get_session)]
    app = FastAPI()
    app.state.engine = engine

    @app.get("/db")
    async def single_query(db: Db) -> dict[str, Any]:
        world = await db.get(World, random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @app.get("/queries")
    async def queries(db: Db, queries: int = 1) -> list[dict[str, Any]]:
        rows = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            rows.append({"id": world.id, "randomNumber": world.randomnumber})
        return rows

    @app.get("/fortunes.json")
    async def fortunes_json(db: Db) -> list[dict[str, Any]]:
        fortunes = list(await db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return [{"id": f.id, "message": f.message} for f in fortunes]

    @app.get("/fortunes", response_class=HTMLResponse)
    async def fortunes_html(request: Request, db: Db) -> HTMLResponse:
        fortunes = list(await db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return templates.TemplateResponse(request, "fortunes.html", {"fortunes": fortunes})

    @app.get("/updates")
    async def updates(db: Db, queries: int = 1) -> list[dict[str, Any]]:
        worlds = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            worlds.append(world)
        for world in worlds:
            world.randomnumber = random_id()
        await db.commit()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]

    return app


async def close(app: FastAPI) -> None:
    """Close the engine's pooled connections."""
    engine: AsyncEngine = app.state.engine
    await engine.dispose()
