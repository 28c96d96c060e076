"""nightowl's task battery: functions that workers run, on existing queue engines.

::

    from nightowl import App
    from nightowl.tasks import task

    app = App(database="postgresql://localhost/shop", tasks="postgresql://localhost/shop")

    @task(retries=3, timeout=30)
    async def send_receipt(order_id: int, db: AsyncSession) -> None:
        ...

    @app.post("/orders")
    async def create_order(order: OrderIn, db: AsyncSession) -> OrderOut:
        ...
        await send_receipt.enqueue(order_id=new.id)   # queued when the request commits

``nightowl worker`` runs the jobs. Backends: in-process (the default), procrastinate on
PostgreSQL, SAQ on Redis (see :mod:`nightowl.tasks.backends`). With the admin battery,
every admin site shows the jobs to staff (:mod:`nightowl.tasks.admin`).
"""

from __future__ import annotations

from nightowl.tasks._job import Job, JobFailed, JobInfo, JobStatus, NotQueuedYet
from nightowl.tasks._queue import Tasks, TaskTimeout, current_tasks, install
from nightowl.tasks._task import Task, TaskArgumentsError, task
from nightowl.tasks.backends import Backend, WorkerOptions

__all__ = [
    "Backend",
    "Job",
    "JobFailed",
    "JobInfo",
    "JobStatus",
    "NotQueuedYet",
    "Task",
    "TaskArgumentsError",
    "TaskTimeout",
    "Tasks",
    "WorkerOptions",
    "current_tasks",
    "install",
    "task",
]
