"""The Redis backend: jobs in SAQ queues, run by SAQ workers.

``App(tasks="redis://host:6379/0")``. A nightowl queue is a SAQ queue of the same name.
While a job runs, the worker touches it every ``heartbeat`` seconds; a job untouched for
``stalled_after`` seconds (its worker died) is put back in the queue by the next sweep of
any worker. Such a rerun does not count against the task's ``retries``, which count
failed runs only. Like every queue that survives a crash, this one runs a job at least
once, not exactly once: a sweep that looks at a job in the instant a worker takes it
puts it back in the queue. Make tasks safe to run twice. Results stay in Redis for ten
minutes (SAQ's ``ttl``).

``?prefix=shop-`` in the URL (``redis://host:6379/0?prefix=shop-``) puts the app's
queues under names of their own in Redis (``shop-default``), so apps that share a Redis
database, or test runs on one machine, never see each other's jobs. Job ids and
``nightowl worker --queue`` keep the unprefixed names.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import re
import time
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from saq import CronJob, Job, Queue, Worker
from saq.job import Status
from saq.queue.redis import RedisQueue
from saq.types import PartialTimersDict

from nightowl._redis import connect
from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks._job import JobInfo, JobStatus, Outcome
from nightowl.tasks._task import REGISTRY, Task
from nightowl.tasks.backends import Backend, WorkerOptions

__all__ = ["RedisBackend"]

logger = logging.getLogger("nightowl.tasks")

#: Reruns allowed after worker deaths, beyond the task's own retries.
RERUNS_AFTER_DEATH = 5
_PREFIX = re.compile(r"[\w.:-]{1,100}")
_STATUSES = {
    Status.NEW: JobStatus.QUEUED,
    Status.QUEUED: JobStatus.QUEUED,
    Status.ACTIVE: JobStatus.RUNNING,
    Status.ABORTING: JobStatus.RUNNING,
    Status.ABORTED: JobStatus.CANCELLED,
    Status.FAILED: JobStatus.FAILED,
    Status.COMPLETE: JobStatus.SUCCEEDED,
}


class RedisBackend(Backend):
    """SAQ on Redis (see the module).

    Args:
        url: the Redis server (``redis://host:6379/0``), with ``?prefix=...`` for
            queue names of the app's own.
        prefix: the same, when the URL gives none.
    """

    schemes = ("redis", "rediss", "unix")
    lists_jobs = True

    def __init__(self, url: str, *, prefix: str = "") -> None:
        self.url, given = _split_prefix(url)
        #: What the names of this app's SAQ queues start with.
        self.prefix = given if given is not None else prefix
        self._queues: dict[str, Queue] = {}
        self.stalled_after = 30.0

    def queue(self, name: str) -> Queue:
        """The SAQ queue of the nightowl queue ``name`` (connected on first use)."""
        found = self._queues.get(name)
        if found is None:
            queue = RedisQueue(connect(self.url), name=self.prefix + name)
            found = self._queues[name] = queue
        return found

    async def close(self) -> None:
        """Disconnect every queue."""
        queues, self._queues = list(self._queues.values()), {}
        for queue in queues:
            await queue.disconnect()

    async def enqueue(
        self, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str:
        """Put the job in its queue."""
        job = Job(
            function=task.name,
            kwargs=payload,
            timeout=0,  # the task's timeout is applied where it runs
            heartbeat=math.ceil(self.stalled_after),  # the worker sets its own
            retries=task.retries + 1 + RERUNS_AFTER_DEATH,
            scheduled=0 if at is None else int(at.timestamp()),
        )
        queue = self.queue(task.queue)
        await queue.enqueue(job)
        return f"{task.queue}/{job.key}"

    async def outcome(self, job_id: str, *, wait: float) -> Outcome:
        """The job's status and result, waiting up to ``wait`` seconds for its end."""
        queue_name, _, key = job_id.partition("/")
        job = await self.queue(queue_name).job(key)
        if job is None:
            raise LookupError(f"No job {job_id} (results are kept ten minutes).")
        if wait > 0 and _STATUSES[job.status] in (JobStatus.QUEUED, JobStatus.RUNNING):
            with contextlib.suppress(TimeoutError):
                await job.refresh(until_complete=0 if math.isinf(wait) else wait)
        status = _STATUSES[job.status]
        error = job.error.strip().splitlines()[-1] if job.error else None
        return Outcome(status, job.result, error)

    async def list_jobs(
        self, *, status: JobStatus | None = None, limit: int = 100
    ) -> list[JobInfo]:
        """The jobs Redis holds (finished ones for ten minutes), newest first, from the
        queues of the tasks this process knows."""
        names = sorted({task.queue for task in REGISTRY.values()} | {"default"})
        found: list[tuple[int, JobInfo]] = []
        for name in names:
            async for job in self.queue(name).iter_jobs():
                info = _info(name, job)
                if status is None or info.status is status:
                    found.append((job.queued, info))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [info for _, info in found[:limit]]

    async def _find(self, job_id: str) -> Job | None:
        queue_name, _, key = job_id.partition("/")
        if not key:
            return None
        return await self.queue(queue_name).job(key)

    async def retry_job(self, job_id: str) -> bool:
        """Queue a failed job again, due now."""
        job = await self._find(job_id)
        if job is None or job.status is not Status.FAILED:
            return False
        job.retry_delay = 0.0
        await self.queue(job_id.partition("/")[0]).retry(job, None)
        return True

    async def cancel_job(self, job_id: str) -> bool:
        """Cancel a queued job, or abort a running one (its worker cancels the run)."""
        job = await self._find(job_id)
        if job is None or _STATUSES[job.status] not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return False
        queue = self.queue(job_id.partition("/")[0])
        waiting = job.status is Status.QUEUED and job.scheduled > time.time()
        await queue.abort(job, "cancelled")
        if waiting:
            # Not due yet, so in no list a worker takes from: SAQ's abort leaves it
            # "aborting" for a worker that will never see it.
            await queue.finish(job, Status.ABORTED, error="cancelled")
        return True

    def _function(self, task: Task[Any], options: WorkerOptions, running: set[Job]) -> Any:
        backend = self
        heartbeat = math.ceil(options.stalled_after)

        async def run(ctx: dict[str, Any], **payload: Any) -> Any:
            job: Job = ctx["job"]
            if job.heartbeat != heartbeat:
                await job.update(heartbeat=heartbeat)
            running.add(job)
            try:
                return await backend.tasks.execute(task.name, payload)
            except Exception:
                failures = job.meta.get("failures", 0) + 1
                job.meta["failures"] = failures
                if failures > task.retries:
                    job.retries = job.attempts  # failed for good: no rerun left
                job.retry_delay, job.retry_backoff = task.delay_before_retry(failures), False
                raise
            finally:
                running.discard(job)

        run.__qualname__ = task.name
        return run

    async def work(self, options: WorkerOptions) -> None:
        """Run a SAQ worker per queue until cancelled."""
        tasks = list(REGISTRY.values())
        names = options.queues or tuple(sorted({task.queue for task in tasks} | {"default"}))
        workers = []
        running: set[Job] = set()
        for name in names:
            mine = [task for task in tasks if task.queue == name]
            functions = [self._function(task, options, running) for task in mine]
            cron = [
                # A scheduled run is a job like any other: SAQ's defaults (a 10 s timeout,
                # a single attempt) would cut long runs short and never rerun one whose
                # worker died.
                CronJob(
                    function,
                    cron=task.cron,
                    timeout=0,
                    heartbeat=math.ceil(options.stalled_after),
                    retries=task.retries + 1 + RERUNS_AFTER_DEATH,
                )
                for task, function in zip(mine, functions, strict=True)
                if task.cron is not None
            ]
            workers.append(
                Worker(
                    self.queue(name),
                    functions=[f for f in functions if not any(c.function is f for c in cron)],
                    cron_jobs=cron,
                    concurrency=options.concurrency,
                    # Stopping lets running jobs finish, as procrastinate's workers do.
                    shutdown_grace_period_s=math.ceil(options.stalled_after),
                    # Sweeps (which put back the jobs of dead workers) run this often,
                    # and SAQ holds their lock for as long.
                    timers=cast(PartialTimersDict, {"sweep": max(1, math.ceil(options.heartbeat))}),
                )
            )
        started = [asyncio.create_task(worker.start()) for worker in workers]
        touching = asyncio.create_task(_touch(running, options.heartbeat))
        try:
            await asyncio.gather(*started)
        finally:
            touching.cancel()
            for worker in workers:
                await worker.stop()


def _split_prefix(url: str) -> tuple[str, str | None]:
    """``url`` without its ``prefix`` query parameter, and that parameter's value."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for key, value in query if key == "prefix"]
    if not prefixes:
        return url, None
    if len(prefixes) > 1 or not prefixes[0] or not _PREFIX.fullmatch(prefixes[0]):
        raise ImproperlyConfigured(
            "The prefix of a redis:// task URL is given once, in letters, digits and "
            f"'-_.:' (?prefix=shop-), not {', '.join(map(repr, prefixes))}."
        )
    rest = urlencode([(key, value) for key, value in query if key != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[0]


def _info(queue: str, job: Job) -> JobInfo:
    due = job.scheduled or job.queued / 1000
    return JobInfo(
        f"{queue}/{job.key}",
        job.function,
        queue,
        _STATUSES[job.status],
        job.kwargs or {},
        job.attempts,
        job.error.strip().splitlines()[-1] if job.error else None,
        dt.datetime.fromtimestamp(due, dt.UTC) if due else None,
    )


async def _touch(running: set[Job], every: float) -> None:
    """Tell Redis every ``every`` seconds that this worker's running jobs are alive."""
    while True:
        await asyncio.sleep(every)
        for job in list(running):
            try:
                await job.update()
            except Exception:  # a lost heartbeat only risks a rerun; keep the worker going
                logger.warning("Touching job %s failed", job.id, exc_info=True)
