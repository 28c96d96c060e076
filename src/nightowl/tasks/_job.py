"""A queued run of a task, as the code that enqueued it sees it."""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Job", "JobFailed", "JobInfo", "JobStatus", "JobStore", "NotQueuedYet", "Outcome"]


class JobStatus(enum.StrEnum):
    """Where a job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobFailed(Exception):
    """The job failed for good (after its retries); ``error`` is what the task raised."""

    def __init__(self, job_id: str, error: str) -> None:
        super().__init__(f"Job {job_id} failed: {error}")
        self.job_id = job_id
        self.error = error


class NotQueuedYet(RuntimeError):
    """The job waits for its request's transaction to commit; it has no id yet."""


class Outcome:
    """What a backend knows of one job: its status, and its result or error once done."""

    __slots__ = ("error", "result", "status")

    def __init__(self, status: JobStatus, result: Any = None, error: str | None = None) -> None:
        self.status = status
        self.result = result
        self.error = error


@dataclass(frozen=True, slots=True)
class JobInfo:
    """One job as a backend lists it (:meth:`~nightowl.tasks.Backend.list_jobs`), for the
    admin's jobs page and for scripts."""

    #: The backend's id, as ``Job.id`` gives it.
    id: str
    task_name: str
    queue: str
    status: JobStatus
    #: The arguments it was enqueued with (JSON-ready).
    args: Mapping[str, Any]
    #: How many times it started running: more than once when it was retried (after a
    #: failure, a worker's death, or the admin's retry button).
    runs: int = 0
    #: The last error (``"RuntimeError: ..."``) of a failed run, if any.
    error: str | None = None
    #: When it is (or was) due to run, if the backend says.
    scheduled_at: dt.datetime | None = None


class JobStore(Protocol):
    """What a :class:`Job` asks its backend."""

    async def outcome(self, job_id: str, *, wait: float) -> Outcome:
        """The job's status, waiting up to ``wait`` seconds for it to end."""


class Job:
    """A run of a task: ``job = await send_email.enqueue(user_id=3)``.

    ``job.id`` is ``None`` while the job waits for its request to commit; afterwards it
    is the backend's id. ``await job.result()`` waits for the run to end and returns what
    the task returned (or raises :class:`JobFailed`).
    """

    __slots__ = ("_store", "id", "task_name")

    def __init__(self, store: JobStore, task_name: str, id: str | None = None) -> None:
        self._store = store
        self.task_name = task_name
        self.id = id

    def __repr__(self) -> str:
        return f"<Job {self.task_name} id={self.id}>"

    async def status(self) -> JobStatus:
        """The job's status now."""
        return (await self._store.outcome(self._require_id(), wait=0.0)).status

    async def result(self, timeout: float | None = None) -> Any:
        """Wait (at most ``timeout`` seconds) for the job to end; return its result.

        Raises :class:`JobFailed` when it failed for good, and ``TimeoutError`` when it
        has not ended in time.
        """
        job_id = self._require_id()
        outcome = await self._store.outcome(job_id, wait=math.inf if timeout is None else timeout)
        if outcome.status is JobStatus.SUCCEEDED:
            return outcome.result
        if outcome.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise JobFailed(job_id, outcome.error or outcome.status.value)
        raise TimeoutError(f"Job {job_id} has not finished ({outcome.status.value}).")

    def _require_id(self) -> str:
        if self.id is None:
            raise NotQueuedYet(
                f"The job of {self.task_name} is queued when the request's transaction "
                "commits; ask for its result after the response."
            )
        return self.id
