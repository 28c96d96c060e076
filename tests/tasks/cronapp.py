"""The app of the cron tests: tasks on an every-second schedule, run by real
``nightowl worker`` processes. Only the workers import this module (its schedules
would otherwise start in the test process's own in-process backend).

Database and task backend come from ``WORKAPP_DATABASE`` and ``WORKAPP_TASKS``, as for
:mod:`tests.tasks.workapp`, whose ``task_marks`` table records what ran.
"""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import func, insert, select

from nightowl import App
from nightowl.db import AsyncSession
from nightowl.tasks import task
from tests.tasks.workapp import marks

#: How long the first run of ``long_tick`` takes: beyond SAQ's default job timeout (10 s).
LONG_RUN = 11.0


@task(cron="* * * * * *")  # every second (croniter's sixth field)
async def tick(db: AsyncSession) -> None:
    """Record one scheduled run."""
    await db.execute(insert(marks).values(label="tick", kind="done"))


@task(cron="* * * * * *")
async def long_tick(db: AsyncSession) -> None:
    """Record each start; the first run lasts :data:`LONG_RUN` seconds, then says so."""
    await db.execute(insert(marks).values(label="long", kind="start"))
    await db.commit()
    starts = await db.scalar(select(func.count()).select_from(marks).where(marks.c.label == "long"))
    if starts == 1:
        await asyncio.sleep(LONG_RUN)
        await db.execute(insert(marks).values(label="long", kind="done"))


@task(cron="* * * * * *", retries=1, retry_delay=0.05)
async def failing_tick() -> None:
    """Fail every run: each scheduled run is retried once, then fails for good."""
    raise RuntimeError("a scheduled run fails")


app = App(
    database=os.environ.get("WORKAPP_DATABASE", "sqlite:///:memory:"),
    tasks=os.environ.get("WORKAPP_TASKS", "memory"),
)
