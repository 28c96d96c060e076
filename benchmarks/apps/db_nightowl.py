"""nightowl with its database battery: ``App(database=...)``, ``AsyncSession`` by annotation.

One session per request, committed by nightowl before a success response is sent (so the
``/updates`` handler does not commit itself). ``build(config, sync=True)`` gives the same
routes as plain ``def`` handlers with a sync ``Session`` (psycopg, nightowl's thread pool).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from sqlalchemy import select

from apps.techempower import (
    ADDITIONAL_FORTUNE,
    SCHEMA,
    TEMPLATES_DIR,
    DbConfig,
    clamp_queries,
    random_id,
)
from nightowl import App, Request, render
from nightowl.db import AsyncSession, Mapped, Model, Session, mapped_column

NOTES = "nightowl.db battery: AsyncSession injected by annotation, committed before the response."
_by_message = attrgetter("message")


class World(Model):
    """A ``world`` row."""

    __tablename__ = "world"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    """A ``fortune`` row."""

    __tablename__ = "fortune"
    __table_args__ = {"schema": SCHEMA}
    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]


def build(config: DbConfig, sync: bool = False, **database: Any) -> App:
    """The app; ``database`` adds options to ``App(database=...)`` (``pool_pre_ping=False``)."""
    app = App(
        database={
            "url": config.url,
            "pool_size": config.pool_size,
            "max_overflow": config.max_overflow,
            **database,
        },
        templates=str(TEMPLATES_DIR),
        sessions=False,  # a JSON/HTML benchmark app: no cookies, no CSRF middleware
    )
    if sync:
        _sync_routes(app)
    else:
        _async_routes(app)
    return app


def _async_routes(app: App) -> None:
    @app.get("/db")
    async def single_query(db: AsyncSession) -> dict[str, Any]:
        world = await db.get(World, random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @app.get("/queries")
    async def queries(db: AsyncSession, queries: int = 1) -> list[dict[str, Any]]:
        rows = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            rows.append({"id": world.id, "randomNumber": world.randomnumber})
        return rows

    @app.get("/fortunes.json")
    async def fortunes_json(db: AsyncSession) -> list[dict[str, Any]]:
        fortunes = list(await db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return [{"id": f.id, "message": f.message} for f in fortunes]

    @app.get("/fortunes")
    async def fortunes_html(request: Request, db: AsyncSession) -> Any:
        fortunes = list(await db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return render("fortunes.html", request, fortunes=fortunes)

    @app.get("/updates")
    async def updates(db: AsyncSession, queries: int = 1) -> list[dict[str, Any]]:
        worlds = []
        for _ in range(clamp_queries(queries)):
            world = await db.get(World, random_id())
            assert world is not None
            worlds.append(world)
        for world in worlds:
            world.randomnumber = random_id()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


def _sync_routes(app: App) -> None:
    @app.get("/db")
    def single_query(db: Session) -> dict[str, Any]:
        world = db.get(World, random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @app.get("/queries")
    def queries(db: Session, queries: int = 1) -> list[dict[str, Any]]:
        rows = []
        for _ in range(clamp_queries(queries)):
            world = db.get(World, random_id())
            assert world is not None
            rows.append({"id": world.id, "randomNumber": world.randomnumber})
        return rows

    @app.get("/fortunes.json")
    def fortunes_json(db: Session) -> list[dict[str, Any]]:
        fortunes = list(db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return [{"id": f.id, "message": f.message} for f in fortunes]

    @app.get("/fortunes")
    def fortunes_html(request: Request, db: Session) -> Any:
        fortunes = list(db.scalars(select(Fortune)))
        fortunes.append(Fortune(id=0, message=ADDITIONAL_FORTUNE))
        fortunes.sort(key=_by_message)
        return render("fortunes.html", request, fortunes=fortunes)

    @app.get("/updates")
    def updates(db: Session, queries: int = 1) -> list[dict[str, Any]]:
        worlds = []
        for _ in range(clamp_queries(queries)):
            world = db.get(World, random_id())
            assert world is not None
            worlds.append(world)
        for world in worlds:
            world.randomnumber = random_id()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]


async def close(app: App) -> None:
    """Nothing to do: nightowl's lifespan shutdown disposes of its engines."""
