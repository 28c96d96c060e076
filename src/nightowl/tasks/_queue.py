"""The app's task queue: which backend stores jobs, what tasks get injected, how a job runs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python

from nightowl._concurrency import run_in_threadpool
from nightowl.admin_pages import admin_pages
from nightowl.exceptions import ImproperlyConfigured
from nightowl.tasks import _binding, _task
from nightowl.tasks._job import Job
from nightowl.tasks._task import REGISTRY, Enqueuer, Plan, Task
from nightowl.tasks.backends import Backend, WorkerOptions

if TYPE_CHECKING:
    from nightowl.app import App

__all__ = ["TaskTimeout", "Tasks", "backend_from", "current_tasks", "install"]

logger = logging.getLogger("nightowl.tasks")
_installed: Tasks | None = None
_fallback: Tasks | None = None


class TaskTimeout(Exception):
    """A run of a task took longer than its ``timeout``."""


class Tasks:
    """An app's task queue: ``App(tasks=url)`` makes one, ``app.state.tasks``.

    ::

        app = App(database="postgresql://...", tasks="postgresql://...")

    Args:
        backend: a :class:`~nightowl.tasks.backends.Backend`, a ``postgresql://`` URL
            (procrastinate), a ``redis://`` URL (SAQ), or ``"memory"``: jobs run inside
            the app's own process (the default; for development and tests).
    """

    def __init__(self, backend: Backend | str | None = None) -> None:
        self.backend = backend_from(backend)
        self.backend.bind(self)
        self.app: App | None = None
        self._providers: dict[Any, Callable[..., Any]] = {}
        self._provided: frozenset[Any] | None = None
        self._resolved: dict[Any, Callable[..., Any]] | None = None
        #: The event loop of the running app (for :meth:`Task.enqueue_sync`).
        self.loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Tasks({type(self.backend).__name__})"

    # -- configuration --------------------------------------------------------------------------
    def install(self, app: App) -> Tasks:
        """Make ``app`` use this queue: requests hold their jobs until they commit, the
        backend connects when the app starts, and ``nightowl worker`` finds it.

        Installing this queue again on the same app changes nothing; another queue on an
        app that has one is an :class:`~nightowl.exceptions.ImproperlyConfigured`.
        """
        global _installed
        current: Tasks | None = getattr(app.state, "tasks", None)
        if current is self:
            return self
        if current is not None:
            raise ImproperlyConfigured(
                f"This app has a task queue already ({current!r}): install one per app, "
                "once (App(tasks=...) or nightowl.tasks.install(app, ...)), and reach it "
                "as app.state.tasks."
            )
        self.app = app
        app.state.tasks = self
        app.add_middleware(_binding.TaskBinding, tasks=self)
        app.provide(Tasks, self._self)
        app.on_startup(self.open)
        app.on_shutdown(self.close)
        admin_pages(app).contribute("tasks.jobs", _show_jobs)
        _installed = self
        return self

    def _self(self) -> Tasks:
        return self

    def provide(self, annotation: Any, factory: Callable[..., Any]) -> None:
        """Inject ``factory()``'s value into task parameters annotated ``annotation``.

        ``factory`` takes no arguments; it may be async, or a generator (sync or async)
        whose code after ``yield`` runs when the task ends (a session's commit, say).
        The app's settings, its database sessions and the app's own providers that take
        no parameters are provided already.
        """
        self._providers[annotation] = factory
        self._provided = self._resolved = None

    def providers(self) -> Mapping[Any, Callable[..., Any]]:
        """Everything injected into tasks, by type."""
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    def _resolve(self) -> dict[Any, Callable[..., Any]]:
        found: dict[Any, Callable[..., Any]] = {}
        app = self.app
        if app is not None:
            for annotation, factory in app.providers.items():
                if _takes_nothing(factory):
                    found[annotation] = factory
            database = getattr(app.state, "database", None)
            if database is not None:
                from nightowl.tasks._sessions import session_providers

                found.update(session_providers(database))
        found[Tasks] = self._self
        found.update(self._providers)
        return found

    @property
    def provided(self) -> frozenset[Any]:
        """The types injected into tasks."""
        if self._provided is None:
            self._provided = frozenset(self.providers())
        return self._provided

    # -- life -----------------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect the backend (the app does this when it starts)."""
        self._provided = self._resolved = None
        self.loop = asyncio.get_running_loop()
        await self.backend.open()

    async def close(self) -> None:
        """Disconnect the backend (when the app stops)."""
        await self.backend.close()

    async def join(self) -> None:
        """Wait until the jobs this process runs have ended: with the in-process backend,
        every job enqueued so far (for tests). Workers of other backends run elsewhere."""
        await self.backend.join()

    async def work(self, options: WorkerOptions | None = None) -> None:
        """Run jobs until cancelled: what ``nightowl worker`` does, in this process."""
        await self.backend.work(options or WorkerOptions())

    # -- enqueueing -----------------------------------------------------------------------------
    async def enqueue(
        self, enqueuer: Enqueuer, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Job:
        """Queue a run of ``enqueuer.task`` (see :meth:`Task.enqueue`); ``kwargs`` is
        consumed."""
        task = enqueuer.task
        payload = task.payload(task.plan(self.provided), args, kwargs)
        job = Job(self.backend, task.name)
        if enqueuer.session is not None:
            job.id = await self.backend.enqueue_in(enqueuer.session, task, payload, enqueuer.at)
            if job.id is not None:
                return job
        batch = _binding.pending()
        if batch is None:
            job.id = await self.backend.enqueue(task, payload, enqueuer.at)
        else:
            batch.add(lambda: self._store(job, task, payload, enqueuer.at))
        return job

    def enqueue_sync(
        self, enqueuer: Enqueuer, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Job:
        """:meth:`enqueue` from a thread of the running app (a plain ``def`` handler)."""
        loop = self.loop
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                f"{enqueuer.task.name}.enqueue_sync() runs in plain functions; "
                "in async code, await enqueue()."
            )
        if loop is None or loop.is_closed():
            raise RuntimeError(
                f"{enqueuer.task.name}.enqueue_sync() needs the app running (its event "
                "loop enqueues); outside it, use asyncio.run(task.enqueue(...))."
            )
        batch = _binding.current_batch()  # the request's, when a handler's thread calls

        async def in_request() -> Job:
            token = _binding.adopt(batch)
            try:
                return await self.enqueue(enqueuer, args, kwargs)
            finally:
                _binding.release(token)

        return asyncio.run_coroutine_threadsafe(in_request(), loop).result()

    async def _store(
        self, job: Job, task: Task[Any], payload: dict[str, Any], at: dt.datetime | None
    ) -> None:
        job.id = await self.backend.enqueue(task, payload, at)

    # -- running --------------------------------------------------------------------------------
    async def execute(self, task_name: str, payload: Mapping[str, Any]) -> Any:
        """Run one job: check its arguments, inject the providers, apply the timeout.

        Returns the task's result as JSON-ready data. Backends call this for every job.
        """
        task = REGISTRY.get(task_name)
        if task is None:
            raise LookupError(
                f"No task named {task_name!r} in this process: import the module that "
                "defines it in the app's module."
            )
        plan = task.plan(self.provided)
        kwargs = task.arguments(plan, payload)
        if task.is_async:
            run = self._run_async(task, plan, kwargs)
        else:
            run = run_in_threadpool(self._run_sync, task, plan, kwargs)
        if task.timeout is None:
            result = await run
        else:
            try:
                result = await asyncio.wait_for(run, task.timeout)
            except TimeoutError:
                raise TaskTimeout(f"{task.name} ran longer than {task.timeout} s") from None
        return None if result is None else to_jsonable_python(result)

    async def _run_async(self, task: Task[Any], plan: Plan, kwargs: dict[str, Any]) -> Any:
        if not plan.injected:  # nothing to enter or leave around the run
            return await task.func(**kwargs)
        providers = self.providers()
        async with contextlib.AsyncExitStack() as stack:
            for name, annotation in plan.injected.items():
                kwargs[name] = await _enter_async(stack, providers[annotation])
            return await task.func(**kwargs)

    def _run_sync(self, task: Task[Any], plan: Plan, kwargs: dict[str, Any]) -> Any:
        providers = self.providers()
        with contextlib.ExitStack() as stack:
            for name, annotation in plan.injected.items():
                kwargs[name] = _enter_sync(stack, providers[annotation], task)
            return task.func(**kwargs)


async def _enter_async(stack: contextlib.AsyncExitStack, factory: Callable[..., Any]) -> Any:
    if inspect.isasyncgenfunction(factory):
        return await stack.enter_async_context(contextlib.asynccontextmanager(factory)())
    if inspect.isgeneratorfunction(factory):
        return stack.enter_context(contextlib.contextmanager(factory)())
    value = factory()
    return await value if inspect.isawaitable(value) else value


def _enter_sync(stack: contextlib.ExitStack, factory: Callable[..., Any], task: Task[Any]) -> Any:
    if inspect.isasyncgenfunction(factory) or inspect.iscoroutinefunction(factory):
        raise ImproperlyConfigured(
            f"Task {task.name} is a plain function, but one of its parameters is provided "
            "asynchronously (an AsyncSession?): make the task async, or take a Session."
        )
    if inspect.isgeneratorfunction(factory):
        return stack.enter_context(contextlib.contextmanager(factory)())
    return factory()


def _show_jobs(site: Any) -> None:
    """The jobs page on an admin site of the app (imported only when the app has one)."""
    from nightowl.tasks.admin import show_jobs

    show_jobs(site)


def _takes_nothing(factory: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


def current_tasks() -> Tasks:
    """The queue in use: the current request's app's, else the last app's, else one in
    this process's memory (so a task works with no configuration at all)."""
    global _fallback
    serving: Tasks | None = _binding.request_tasks()
    if serving is not None:
        return serving
    if _installed is not None:
        return _installed
    if _fallback is None:
        _fallback = Tasks("memory")
    return _fallback


def install(app: App, value: Any = None) -> Tasks:
    """Give ``app`` a task queue; ``App(tasks=...)`` calls this.

    ``value`` is a :class:`Tasks`, a backend, a URL (``postgresql://...``,
    ``redis://...``), ``"memory"``, or ``True``/``None`` for ``tasks_url`` in the app's
    settings, else ``$TASKS_URL``, else memory.
    """
    if isinstance(value, Tasks):
        return value.install(app)
    if value is None or value is True:
        settings = app.settings
        value = (
            getattr(settings, "tasks_url", None) if settings is not None else None
        ) or os.environ.get("TASKS_URL", "memory")
    return Tasks(value).install(app)


_task.current_queue = current_tasks


def backend_from(value: Any) -> Backend:
    """The backend that ``App(tasks=value)`` names: a URL, a backend, or ``"memory"``."""
    if isinstance(value, Backend):
        return value
    if value is None or value is True or value in ("memory", "memory://"):
        from nightowl.tasks.backends.memory import MemoryBackend

        return MemoryBackend()
    if isinstance(value, str):
        scheme = value.split(":", 1)[0].split("+", 1)[0]
        if scheme in ("postgresql", "postgres"):
            from nightowl.tasks.backends.postgres import PostgresBackend

            return PostgresBackend(value)
        if scheme in ("redis", "rediss", "unix"):
            from nightowl.tasks.backends.redis import RedisBackend

            return RedisBackend(value)
    raise ImproperlyConfigured(
        f"App(tasks=...) takes 'memory', a postgresql:// or redis:// URL, or a backend, "
        f"not {value!r}."
    )
