"""The PostgreSQL backend: jobs in procrastinate's tables, run by procrastinate workers.

``App(tasks="postgresql://user@host/db")``. The tables are created the first time the
app or a worker connects (under an advisory lock, so many starting at once agree).
A job enqueued with ``.options(session=db)`` on the same database is written inside that
session's transaction: it exists if and only if the transaction commits. A worker that
dies mid-job stops sending heartbeats; after ``stalled_after`` seconds another worker
puts its jobs back in the queue. Results (when a task returns something) and errors are
kept in ``nightowl_task_results``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import time
from typing import Any

import procrastinate
from procrastinate import jobs as procrastinate_jobs
from procrastinate.job_context import JobContext
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url

from nightowl._concurrency import run_in_threadpool
from nightowl.tasks._job import JobInfo, JobStatus, Outcome
from nightowl.tasks._task import REGISTRY, Task
from nightowl.tasks.backends import Backend, WorkerOptions

__all__ = ["PostgresBackend"]

logger = logging.getLogger("nightowl.tasks")

_SCHEMA_LOCK = 0x6E6F5441534B53  # any constant the app's own advisory locks don't use
_RESULTS = """
CREATE TABLE IF NOT EXISTS nightowl_task_results (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs (id) ON DELETE CASCADE,
    result jsonb,
    error text
)
"""
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, "
    ":args, :at)::procrastinate_job_to_defer_v1])) AS id"
).bindparams(bindparam("args", type_=JSONB), bindparam("at", type_=DateTime(timezone=True)))
_STATUSES = {
    "todo": JobStatus.QUEUED,
    "doing": JobStatus.RUNNING,
    "succeeded": JobStatus.SUCCEEDED,
    "failed": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    "aborting": JobStatus.RUNNING,
    "aborted": JobStatus.CANCELLED,
}
#: procrastinate's statuses behind each of ours, for the admin's filter.
_RAW_STATUSES = {
    ours: [raw for raw, mapped in _STATUSES.items() if mapped is ours] for ours in JobStatus
}
_LIST = (
    "SELECT j.id, j.task_name, j.queue_name, j.status, j.args, j.scheduled_at, r.error, "
    "(SELECT count(*) FROM procrastinate_events e WHERE e.job_id = j.id "
    "AND e.type = 'started') AS runs "
    "FROM procrastinate_jobs j LEFT JOIN nightowl_task_results r ON r.job_id = j.id "
    "WHERE %(any)s OR j.status::text = ANY(%(statuses)s) ORDER BY j.id DESC LIMIT %(limit)s"
)


class _Retry(BaseRetryStrategy):
    """The task's retries, waiting ``retry_delay * backoff ** (attempt - 1)`` seconds."""

    def __init__(self, task: Task[Any]) -> None:
        self.task = task

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate_jobs.Job
    ) -> RetryDecision | None:
        if job.attempts >= self.task.retries:
            return None
        seconds = self.task.delay_before_retry(job.attempts + 1)
        return RetryDecision(retry_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


class PostgresBackend(Backend):
    """procrastinate on PostgreSQL (see the module).

    Args:
        url: the database (``postgresql://user@host:5432/db``; a SQLAlchemy driver
            suffix such as ``+psycopg`` is ignored).
    """

    schemes = ("postgresql", "postgres")
    lists_jobs = True

    def __init__(self, url: str) -> None:
        parsed = make_url(url).set(drivername="postgresql")
        self.url = parsed
        self.conninfo = parsed.render_as_string(hide_password=False)
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=self.conninfo)
        )
        self._tasks: dict[str, Any] = {}
        self._opened = False

    async def open(self) -> None:
        """Open the connection pool and create the tables if they are missing."""
        if self._opened:
            return
        await self.app.open_async()
        self._opened = True
        await self._ensure_schema()

    async def close(self) -> None:
        """Close the connection pool."""
        if self._opened:
            self._opened = False
            await self.app.close_async()

    async def _ensure_schema(self) -> None:
        connector = self.app.connector
        async with _advisory_lock(connector):
            row = await connector.execute_query_one_async(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
            )
            if not row["present"]:
                await self.app.schema_manager.apply_schema_async()
            await connector.execute_query_async(_RESULTS)

    def _procrastinate_task(self, task: Task[Any]) -> Any:
        found = self._tasks.get(task.name)
        if found is None:
            backend = self

            async def run(context: JobContext, /, **payload: Any) -> None:
                payload.pop("timestamp", None)  # what procrastinate gives periodic tasks
                await backend._run(context.job.id, task, payload)

            run.__name__ = task.func.__name__
            found = self.app.task(
                name=task.name, queue=task.queue, retry=_Retry(task), pass_context=True
            )(run)
            if task.cron is not None:
                found = self.app.periodic(cron=task.cron)(found)  # type: ignore[arg-type]
            self._tasks[task.name] = found
        return found

    async def _run(self, job_id: int | None, task: Task[Any], payload: dict[str, Any]) -> None:
        try:
            result = await self.tasks.execute(task.name, payload)
        except Exception as exc:
            await self._save(job_id, None, f"{type(exc).__name__}: {exc}")
            raise
        if result is not None:  # no row, no write, for the many tasks that return nothing
            await self._save(job_id, result, None)

    async def _save(self, job_id: int | None, result: Any, error: str | None) -> None:
        if job_id is None:
            return
        await self.app.connector.execute_query_async(
            "INSERT INTO nightowl_task_results (job_id, result, error) "
            "VALUES (%(job_id)s, %(result)s, %(error)s) ON CONFLICT (job_id) DO UPDATE "
            "SET result = EXCLUDED.result, error = EXCLUDED.error",
            job_id=job_id,
            result=json.dumps(result),
            error=error,
        )

    async def enqueue(
        self, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str:
        """Insert the job (its own short transaction)."""
        deferrer = self._procrastinate_task(task)
        if at is not None:
            deferrer = deferrer.configure(schedule_at=at)
        return str(await deferrer.defer_async(**payload))

    async def enqueue_in(
        self, session: Any, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str | None:
        """Insert the job in ``session``'s transaction, when it is on this database."""
        sync_session = getattr(session, "sync_session", session)
        url = sync_session.get_bind().url
        if not (
            url.get_backend_name() == "postgresql"
            and (url.host or "localhost", url.port or 5432, url.database)
            == (self.url.host or "localhost", self.url.port or 5432, self.url.database)
        ):
            return None
        self._procrastinate_task(task)
        params = {"queue": task.queue, "task": task.name, "args": payload, "at": at}
        if sync_session is session:
            result = await run_in_threadpool(session.execute, _DEFER, params)
        else:
            result = await session.execute(_DEFER, params)
        return str(result.scalar_one())

    async def outcome(self, job_id: str, *, wait: float) -> Outcome:
        """The job's status and result, polling until it ends or ``wait`` runs out."""
        deadline = time.monotonic() + (0.0 if math.isinf(wait) else wait)
        while True:
            row = await self.app.connector.execute_query_one_async(
                "SELECT j.status, r.result, r.error FROM procrastinate_jobs j "
                "LEFT JOIN nightowl_task_results r ON r.job_id = j.id WHERE j.id = %(id)s",
                id=int(job_id),
            )
            if row is None:
                raise LookupError(f"No job {job_id}.")
            status = _STATUSES[row["status"]]
            done = status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
            if done or (not math.isinf(wait) and time.monotonic() >= deadline):
                return Outcome(status, row["result"], row["error"])
            await asyncio.sleep(0.05)

    async def list_jobs(
        self, *, status: JobStatus | None = None, limit: int = 100
    ) -> list[JobInfo]:
        """The most recent jobs in procrastinate's table, newest first."""
        rows = await self.app.connector.execute_query_all_async(
            _LIST,
            any=status is None,
            statuses=_RAW_STATUSES[status] if status is not None else [],
            limit=limit,
        )
        return [
            JobInfo(
                str(row["id"]),
                row["task_name"],
                row["queue_name"],
                _STATUSES[row["status"]],
                row["args"],
                row["runs"],
                row["error"],
                row["scheduled_at"],
            )
            for row in rows
        ]

    async def retry_job(self, job_id: str) -> bool:
        """Queue a failed job again, due now."""
        if not job_id.isdigit():
            return False
        try:
            await self.app.job_manager.retry_job_by_id_async(
                int(job_id), retry_at=dt.datetime.now(dt.UTC)
            )
        except procrastinate.exceptions.ConnectorException:
            return False  # not found, or not failed (procrastinate's function refuses)
        return True

    async def cancel_job(self, job_id: str) -> bool:
        """Cancel a queued job; ask procrastinate to abort a running one (its worker
        cancels the run)."""
        if not job_id.isdigit():
            return False
        return await self.app.job_manager.cancel_job_by_id_async(int(job_id), abort=True)

    async def work(self, options: WorkerOptions) -> None:
        """Run a procrastinate worker, and put the jobs of dead workers back in the queue."""
        for task in list(REGISTRY.values()):
            self._procrastinate_task(task)
        recovery = asyncio.create_task(self._recover(options))
        worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=list(options.queues) or None,  # type: ignore[arg-type]
                concurrency=options.concurrency,
                install_signal_handlers=False,
                update_heartbeat_interval=options.heartbeat,
                stalled_worker_timeout=options.stalled_after,
                wait=True,
                # New jobs arrive by LISTEN/NOTIFY; polling finds the retries and delayed
                # jobs that come due.
                fetch_job_polling_interval=1.0,
            )
        )
        try:
            await asyncio.shield(worker)
        except asyncio.CancelledError:
            # Cancelling procrastinate's worker stops it gracefully: running jobs finish.
            # Wait for that whatever else is cancelled, so that the connection pool it
            # uses is not closed under it.
            worker.cancel()
            while not worker.done():
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(worker)
            raise
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery

    async def _recover(self, options: WorkerOptions) -> None:
        manager = self.app.job_manager
        while True:
            await asyncio.sleep(options.heartbeat)
            try:
                stalled = await manager.get_stalled_jobs(
                    seconds_since_heartbeat=options.stalled_after
                )
                for job in stalled:
                    logger.warning(
                        "Job %s of %s: its worker died; queued again", job.id, job.task_name
                    )
                    await manager.retry_job(job)
            except Exception:
                logger.warning("Looking for the jobs of dead workers failed", exc_info=True)


@contextlib.asynccontextmanager
async def _advisory_lock(connector: Any) -> Any:
    pool = connector.pool
    async with pool.connection() as connection:
        await connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            yield
        finally:
            await connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
