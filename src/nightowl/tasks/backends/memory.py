"""The in-process backend: jobs run as asyncio tasks of the app's own event loop.

For development and tests, and the default: nothing to install or start. Jobs live in
the process's memory, so they die with it; retries, delays, timeouts, results and cron
schedules behave as with the other backends.

A finished job (succeeded, failed or cancelled) is kept, with its result or error, for
ten minutes after it ends, as SAQ keeps it in Redis, and only the 1,000 that ended last
are kept: a long-running development server does not grow without end. Waiting and
running jobs are always kept. ``MemoryBackend(keep_for=..., keep_at_most=...)`` changes
both; a job no longer kept is unknown (``LookupError``), as with the other backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks._job import JobInfo, JobStatus, Outcome
from nightowl.tasks._task import REGISTRY, Task
from nightowl.tasks.backends import Backend, WorkerOptions

__all__ = ["MemoryBackend"]

logger = logging.getLogger("nightowl.tasks")


class _Record:
    """What the backend keeps of a job besides its outcome, to list, retry and cancel it."""

    __slots__ = ("cancelled", "payload", "run", "runs", "task")

    def __init__(self, task: Task[Any], payload: dict[str, Any]) -> None:
        self.task = task
        self.payload = payload
        self.runs = 0
        self.cancelled = False
        self.run: asyncio.Task[None] | None = None


class MemoryBackend(Backend):
    """Runs jobs in this process (see the module).

    Args:
        keep_for: seconds a finished job (and its result or error) is kept after it ends.
        keep_at_most: how many finished jobs are kept at most; the oldest go first.
    """

    schemes = ("memory",)
    lists_jobs = True

    def __init__(self, *, keep_for: float = 600.0, keep_at_most: int = 1000) -> None:
        if not (isinstance(keep_for, int | float) and 0 < keep_for < math.inf):
            raise ImproperlyConfigured(
                f"MemoryBackend(keep_for=...) is a number of seconds above 0, not {keep_for!r}."
            )
        if isinstance(keep_at_most, bool) or not isinstance(keep_at_most, int) or keep_at_most < 1:
            raise ImproperlyConfigured(
                f"MemoryBackend(keep_at_most=...) is a count of at least 1, not {keep_at_most!r}."
            )
        self.keep_for = float(keep_for)
        self.keep_at_most = keep_at_most
        #: The clock finished jobs are timed by (a test may replace it).
        self.clock: Callable[[], float] = time.monotonic
        self._ids = itertools.count(1)
        self._outcomes: dict[str, Outcome] = {}
        self._records: dict[str, _Record] = {}
        self._done: dict[str, asyncio.Event] = {}
        #: Finished jobs by id, in the order they ended, with when they ended.
        self._finished: dict[str, float] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._cron: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        """Start the cron schedules of the tasks defined so far."""
        for task in list(REGISTRY.values()):
            if task.cron is not None:
                self._cron.append(_spawn(self._schedule(task)))

    async def close(self) -> None:
        """Stop the cron schedules, drop the jobs still waiting (they live in memory),
        and wait for the running ones."""
        for scheduler in self._cron:
            scheduler.cancel()
        self._cron.clear()
        for run in list(self._running):
            outcome = self._outcomes.get(run.get_name())  # gone if it has just ended
            if outcome is not None and outcome.status is JobStatus.QUEUED:
                run.cancel()
        await self.join()

    async def join(self) -> None:
        """Wait until no job is waiting or running (for tests)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def enqueue(
        self, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str:
        """Start the job as an asyncio task of the running loop."""
        self._forget_old()
        job_id = str(next(self._ids))
        self._outcomes[job_id] = Outcome(JobStatus.QUEUED)
        self._records[job_id] = _Record(task, payload)
        self._start(job_id, at)
        return job_id

    def _start(self, job_id: str, at: dt.datetime | None, first_attempt: int = 1) -> None:
        record = self._records[job_id]
        self._finished.pop(job_id, None)
        self._done[job_id] = asyncio.Event()
        run = record.run = _spawn(self._run(job_id, record.task, record.payload, at, first_attempt))
        run.set_name(job_id)
        self._running.add(run)
        run.add_done_callback(self._running.discard)

    async def _run(
        self,
        job_id: str,
        task: Task[Any],
        payload: dict[str, Any],
        at: dt.datetime | None,
        first_attempt: int = 1,
    ) -> None:
        outcome = self._outcomes[job_id]
        try:
            if at is not None:
                await asyncio.sleep(max(0.0, (at - dt.datetime.now(dt.UTC)).total_seconds()))
            await self._attempts(job_id, task, payload, outcome, first_attempt)
        except asyncio.CancelledError:
            cancelled = self._records[job_id].cancelled
            outcome.status = JobStatus.CANCELLED
            outcome.error = "cancelled" if cancelled else "the app stopped"
            if not cancelled:
                raise
        finally:
            self._done[job_id].set()
            self._finished[job_id] = self.clock()
            self._forget_old()

    def _forget_old(self) -> None:
        """Drop the finished jobs kept too long, and the oldest beyond ``keep_at_most``."""
        finished = self._finished
        oldest_kept = self.clock() - self.keep_for
        while finished:
            job_id, ended = next(iter(finished.items()))
            if ended >= oldest_kept and len(finished) <= self.keep_at_most:
                break
            del finished[job_id]
            del self._outcomes[job_id], self._records[job_id], self._done[job_id]

    async def _attempts(
        self,
        job_id: str,
        task: Task[Any],
        payload: dict[str, Any],
        outcome: Outcome,
        first_attempt: int,
    ) -> None:
        for attempt in itertools.count(first_attempt):
            outcome.status = JobStatus.RUNNING
            self._records[job_id].runs += 1
            try:
                outcome.result = await self.tasks.execute(task.name, payload)
            except Exception as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
                if attempt > task.retries:
                    logger.exception("Job %s of %s failed", job_id, task.name)
                    outcome.status = JobStatus.FAILED
                    break
                logger.warning("Job %s of %s failed (%s); retrying", job_id, task.name, exc)
                outcome.status = JobStatus.QUEUED
                await asyncio.sleep(task.delay_before_retry(attempt))
            else:
                outcome.status, outcome.error = JobStatus.SUCCEEDED, None
                break

    async def _schedule(self, task: Task[Any]) -> None:
        from croniter import croniter

        assert task.cron is not None
        times = croniter(task.cron, dt.datetime.now(dt.UTC))
        while True:
            moment: dt.datetime = times.get_next(dt.datetime)
            await asyncio.sleep(max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds()))
            await self.enqueue(task, {}, None)

    async def outcome(self, job_id: str, *, wait: float) -> Outcome:
        """The job's outcome, waiting for its end up to ``wait`` seconds."""
        self._forget_old()
        found = self._outcomes.get(job_id)
        if found is None:
            raise LookupError(
                f"No job {job_id} in this process (finished jobs are kept "
                f"{self.keep_for:g} s, {self.keep_at_most} at most)."
            )
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._done[job_id].wait(), None if math.isinf(wait) else wait
                )
        return found

    async def list_jobs(
        self, *, status: JobStatus | None = None, limit: int = 100
    ) -> list[JobInfo]:
        """The jobs of this process that it keeps, newest first."""
        self._forget_old()
        found: list[JobInfo] = []
        for job_id in reversed(self._records):
            outcome, record = self._outcomes[job_id], self._records[job_id]
            if status is not None and outcome.status is not status:
                continue
            found.append(
                JobInfo(
                    job_id,
                    record.task.name,
                    record.task.queue,
                    outcome.status,
                    record.payload,
                    record.runs,
                    outcome.error,
                )
            )
            if len(found) >= limit:
                break
        return found

    async def retry_job(self, job_id: str) -> bool:
        """Run a failed job of this process again."""
        outcome = self._outcomes.get(job_id)
        if outcome is None or outcome.status is not JobStatus.FAILED:
            return False
        outcome.status = JobStatus.QUEUED
        record = self._records[job_id]
        # One more run, as with the other backends: its retries were used up.
        self._start(job_id, None, first_attempt=record.task.retries + 1)
        return True

    async def cancel_job(self, job_id: str) -> bool:
        """Cancel a job of this process that waits or runs."""
        outcome = self._outcomes.get(job_id)
        if outcome is None or outcome.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        record = self._records[job_id]
        record.cancelled = True
        if record.run is not None:
            record.run.cancel()
        return True

    async def work(self, options: WorkerOptions) -> None:
        """The memory backend has no workers of its own."""
        raise ImproperlyConfigured(
            "The in-process task backend runs jobs inside the app's own processes, so it "
            "has no workers: give App(tasks=...) a postgresql:// or redis:// URL to run "
            "`nightowl worker`."
        )


def _spawn(coroutine: Any) -> asyncio.Task[None]:
    # A fresh context: a job must not see the request that enqueued it (or its held jobs).
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())
