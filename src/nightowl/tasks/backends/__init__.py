"""Where jobs wait and how workers take them: one backend per engine.

- :class:`~nightowl.tasks.backends.memory.MemoryBackend`: in the app's own process, for
  development and tests (the default).
- :class:`~nightowl.tasks.backends.postgres.PostgresBackend`: procrastinate on
  PostgreSQL (``postgresql://...``); jobs can join a database transaction.
- :class:`~nightowl.tasks.backends.redis.RedisBackend`: SAQ on Redis (``redis://...``).

A backend only stores and hands out jobs; running one (arguments, injection, timeout)
is :meth:`nightowl.tasks.Tasks.execute`'s job, the same for all of them.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.tasks._job import JobInfo, JobStatus, Outcome
    from nightowl.tasks._task import Task

__all__ = ["Backend", "Executor", "WorkerOptions"]


class Executor(Protocol):
    """Runs one job (:class:`~nightowl.tasks.Tasks`): what a backend's workers call."""

    async def execute(self, task_name: str, payload: Mapping[str, Any]) -> Any:
        """Run the job of ``task_name`` with these arguments; return its JSON-ready result."""


class WorkerOptions:
    """How a worker runs: how many jobs at once, which queues, how it spots dead peers.

    Args:
        concurrency: jobs run at the same time by one worker.
        queues: the queues it takes jobs from (all when empty).
        heartbeat: seconds between the worker's "still alive" signals.
        stalled_after: seconds without a signal after which a worker counts as dead and
            its running jobs are run again by another.
    """

    __slots__ = ("concurrency", "heartbeat", "queues", "stalled_after")

    def __init__(
        self,
        *,
        concurrency: int = 10,
        queues: Sequence[str] = (),
        heartbeat: float = 10.0,
        stalled_after: float = 30.0,
    ) -> None:
        if concurrency < 1:
            raise ImproperlyConfigured("A worker needs a concurrency of at least 1.")
        if heartbeat <= 0 or stalled_after <= heartbeat:
            raise ImproperlyConfigured("A worker needs 0 < heartbeat < stalled_after.")
        self.concurrency = concurrency
        self.queues = tuple(queues)
        self.heartbeat = heartbeat
        self.stalled_after = stalled_after


class Backend(abc.ABC):
    """Stores jobs and runs workers on one engine."""

    #: The ``App(tasks=...)`` URL schemes this backend serves.
    schemes: tuple[str, ...] = ()

    tasks: Executor

    def bind(self, tasks: Executor) -> None:
        """Called once by the :class:`~nightowl.tasks.Tasks` that uses this backend."""
        self.tasks = tasks

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (the app calls this when it starts)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect and stop what runs in the background (when the app stops)."""

    async def join(self) -> None:  # noqa: B027 - optional hook
        """Wait until this process runs no job (the in-process backend; for tests)."""

    @abc.abstractmethod
    async def enqueue(
        self, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str:
        """Store a job of ``task`` with these arguments; return its id."""

    async def enqueue_in(
        self, session: Any, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> str | None:
        """Store a job inside ``session``'s transaction and return its id, or ``None``
        when this backend cannot (the job is then queued after the commit)."""
        return None

    @abc.abstractmethod
    async def outcome(self, job_id: str, *, wait: float) -> Outcome:
        """The job's status, waiting up to ``wait`` seconds for it to end."""

    @abc.abstractmethod
    async def work(self, options: WorkerOptions) -> None:
        """Run jobs until cancelled (``nightowl worker``)."""

    # -- looking after jobs (the admin's jobs page) ------------------------------------------
    #: Whether :meth:`list_jobs`, :meth:`retry_job` and :meth:`cancel_job` work.
    lists_jobs: bool = False

    async def list_jobs(
        self, *, status: JobStatus | None = None, limit: int = 100
    ) -> list[JobInfo]:
        """The most recent jobs, newest first, of one status or of all."""
        raise NotImplementedError(f"{type(self).__name__} does not list its jobs.")

    async def retry_job(self, job_id: str) -> bool:
        """Queue a failed job again; ``False`` when there is no such failed job."""
        raise NotImplementedError(f"{type(self).__name__} does not retry jobs.")

    async def cancel_job(self, job_id: str) -> bool:
        """Cancel a queued job, or ask a running one to stop; ``False`` when there is no
        such job waiting or running."""
        raise NotImplementedError(f"{type(self).__name__} does not cancel jobs.")
