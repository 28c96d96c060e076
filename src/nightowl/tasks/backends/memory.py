"""The in-process backend: jobs run as asyncio tasks of the app's own event loop.

For development and tests, and the default: nothing to install or start. Jobs live in
the process's memory, so they die with it; retries, delays, timeouts, results and cron
schedules behave as with the other backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import itertools
import logging
import math
from typing import Any

from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks._job import JobStatus, Outcome
from nightowl.tasks._task import REGISTRY, Task
from nightowl.tasks.backends import Backend, WorkerOptions

__all__ = ["MemoryBackend"]

logger = logging.getLogger("nightowl.tasks")


class MemoryBackend(Backend):
    """Runs jobs in this process (see the module)."""

    schemes = ("memory",)

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._outcomes: dict[str, Outcome] = {}
        self._done: dict[str, asyncio.Event] = {}
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
            if self._outcomes[run.get_name()].status is JobStatus.QUEUED:
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
        job_id = str(next(self._ids))
        self._outcomes[job_id] = Outcome(JobStatus.QUEUED)
        self._done[job_id] = asyncio.Event()
        run = _spawn(self._run(job_id, task, payload, at))
        run.set_name(job_id)
        self._running.add(run)
        run.add_done_callback(self._running.discard)
        return job_id

    async def _run(
        self, job_id: str, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> None:
        outcome = self._outcomes[job_id]
        try:
            if at is not None:
                await asyncio.sleep(max(0.0, (at - dt.datetime.now(dt.UTC)).total_seconds()))
            await self._attempts(job_id, task, payload, outcome)
        except asyncio.CancelledError:
            outcome.status, outcome.error = JobStatus.CANCELLED, "the app stopped"
            raise
        finally:
            self._done[job_id].set()

    async def _attempts(
        self, job_id: str, task: Task[Any], payload: dict[str, Any], outcome: Outcome
    ) -> None:
        for attempt in itertools.count(1):
            outcome.status = JobStatus.RUNNING
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
        found = self._outcomes.get(job_id)
        if found is None:
            raise LookupError(f"No job {job_id} in this process.")
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._done[job_id].wait(), None if math.isinf(wait) else wait
                )
        return found

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
