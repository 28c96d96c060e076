"""The app the worker tests serve and run workers of: ``create_app(database, tasks)``;
``app``, the one ``nightowl worker`` loads, takes both from ``WORKAPP_DATABASE`` and
``WORKAPP_TASKS``.

Tasks write what they do into ``task_marks``, so a test reads what ran from the database.
"""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from nightowl import App, HTTPException
from nightowl.db import AsyncSession, Session
from nightowl.tasks import task

metadata = MetaData()
marks = Table(
    "task_marks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
)


@task
async def mark(label: str, db: AsyncSession) -> str:
    """Record that the job of ``label`` ran."""
    await db.execute(insert(marks).values(label=label, kind="done"))
    return label.upper()


@task
async def slow_mark(label: str, seconds: float, db: AsyncSession) -> None:
    """Record each start; on the first, run ``seconds`` before recording the end."""
    await db.execute(insert(marks).values(label=label, kind="start"))
    await db.commit()
    starts = await db.scalar(
        select(func.count())
        .select_from(marks)
        .where(marks.c.label == label, marks.c.kind == "start")
    )
    if starts == 1:
        await asyncio.sleep(seconds)
    await db.execute(insert(marks).values(label=label, kind="done"))


@task(retries=2, retry_delay=0.05)
async def flaky_mark(label: str, fail_times: int, db: AsyncSession) -> None:
    """Record each start, and fail the first ``fail_times`` runs."""
    await db.execute(insert(marks).values(label=label, kind="start"))
    await db.commit()
    starts = await db.scalar(
        select(func.count())
        .select_from(marks)
        .where(marks.c.label == label, marks.c.kind == "start")
    )
    if starts is not None and starts <= fail_times:
        raise RuntimeError(f"run {starts} fails")


@task
def sync_mark(label: str, db: Session) -> None:
    """A plain function task with a sync session."""
    db.execute(insert(marks).values(label=label, kind="done"))


def create_app(database: str, tasks: str) -> App:
    """The app, on this database and task backend."""
    app = App(database=database, tasks=tasks)

    @app.post("/orders/{label}")
    async def order(label: str, db: AsyncSession, fail: bool = False) -> dict[str, str]:
        """Write a row and enqueue a job; ``fail`` makes the request fail after both."""
        await db.execute(insert(marks).values(label=label, kind="order"))
        await mark.enqueue(label=label)
        if fail:
            raise HTTPException(409, "the order is refused")
        return {"label": label}

    @app.post("/joined/{label}")
    async def joined(label: str, db: AsyncSession, fail: bool = False) -> dict[str, str | None]:
        """Enqueue inside the request's own transaction."""
        job = await mark.options(session=db).enqueue(label=label)
        if fail:
            raise HTTPException(409, "the order is refused")
        return {"job": job.id}

    @app.post("/slow/{label}")
    async def slow(label: str, seconds: float = 30.0) -> dict[str, str]:
        """Enqueue a long job."""
        await slow_mark.enqueue(label=label, seconds=seconds)
        return {"label": label}

    return app


app = create_app(
    os.environ.get("WORKAPP_DATABASE", "sqlite:///:memory:"),
    os.environ.get("WORKAPP_TASKS", "memory"),
)
