"""A task: a function, the options it runs with, and how its arguments are checked.

``@task`` wraps a function (sync or async) in a :class:`Task`. Its parameters are of two
kinds: those the caller passes to :meth:`Task.enqueue`, validated against their
annotations and sent to the worker as JSON; and those the worker injects, whose
annotation is a type the app provides (``AsyncSession``, the settings...). Which is which
is decided by the :class:`~nightowl.tasks.Tasks` the task runs under (see
:meth:`Task.plan`), since providers belong to an app and ``@task`` runs before one exists.
"""

from __future__ import annotations

import datetime as dt
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import pydantic

from nightowl.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from nightowl.tasks._job import Job

__all__ = ["REGISTRY", "Enqueuer", "Plan", "Task", "TaskArgumentsError", "task"]

R = TypeVar("R")
#: Every task defined in this process, by name (the worker looks tasks up here).
REGISTRY: dict[str, Task[Any]] = {}
#: Finds the task queue in use (set by nightowl.tasks._queue, which sits above this module).
current_queue: Callable[[], Any] | None = None


class TaskArgumentsError(ValueError):
    """The arguments given to :meth:`Task.enqueue` do not match the task's signature."""


class Plan:
    """How one task's parameters are filled under one :class:`~nightowl.tasks.Tasks`.

    ``arguments`` validates what the caller passes; ``injected`` maps the other
    parameters to the type whose provider fills them.
    """

    __slots__ = ("arguments", "injected", "positional", "serializer", "validator")

    def __init__(
        self,
        arguments: type[pydantic.BaseModel],
        injected: Mapping[str, Any],
        positional: tuple[str, ...],
    ) -> None:
        self.arguments = arguments
        self.injected = dict(injected)
        self.positional = positional
        # The model's own validator and serializer, called directly: every enqueue and
        # every run goes through them, and the model's methods only wrap them.
        self.validator = arguments.__pydantic_validator__
        self.serializer = arguments.__pydantic_serializer__


class Task(Generic[R]):
    """A function that workers run, enqueued with :meth:`enqueue`.

    Made by :func:`task`; calling the task calls the function directly (handy in tests).

    Attributes:
        name: the name jobs are stored under (``module.function`` unless given).
        queue: the queue its jobs go to.
        retries: how many times a failed run is tried again.
        retry_delay: seconds before the first retry; each next one waits ``backoff``
            times longer.
        timeout: seconds a run may take before it fails (and is retried, if it may).
        cron: a cron expression (``"*/5 * * * *"``) on which workers run the task.
    """

    def __init__(
        self,
        func: Callable[..., R],
        *,
        name: str | None = None,
        queue: str = "default",
        retries: int = 0,
        retry_delay: float = 1.0,
        backoff: float = 2.0,
        timeout: float | None = None,
        cron: str | None = None,
    ) -> None:
        if retries < 0 or retry_delay < 0 or backoff < 1:
            raise ImproperlyConfigured(
                "@task needs retries >= 0, retry_delay >= 0 and backoff >= 1."
            )
        if timeout is not None and timeout <= 0:
            raise ImproperlyConfigured("@task(timeout=...) must be a positive number of seconds.")
        self.func = func
        self.name = name or f"{func.__module__}.{func.__qualname__}"
        self.queue = queue
        self.retries = retries
        self.retry_delay = retry_delay
        self.backoff = backoff
        self.timeout = timeout
        self.cron = cron
        if cron is not None:
            _check_cron(cron, self.name)
        self.is_async = inspect.iscoroutinefunction(func)
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func
        self._plans: dict[frozenset[Any], Plan] = {}
        self._plain = Enqueuer(self, None, None)
        REGISTRY[self.name] = self

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> R:
        return self.func(*args, **kwargs)

    def delay_before_retry(self, attempt: int) -> float:
        """Seconds to wait before retrying after failed run number ``attempt`` (from 1)."""
        return float(self.retry_delay * self.backoff ** (attempt - 1))

    async def enqueue(self, *args: Any, **kwargs: Any) -> Job:
        """Validate the arguments and queue a run of the task; return its :class:`Job`.

        In a request, the job is queued once the request's database transaction has
        committed and only if it did (the response's status is below 400): a request
        that fails queues nothing. Elsewhere it is queued at once.
        """
        if current_queue is None:  # pragma: no cover - nightowl.tasks sets it on import
            raise ImproperlyConfigured("Import nightowl.tasks to enqueue tasks.")
        job: Job = await current_queue().enqueue(self._plain, args, kwargs)
        return job

    def enqueue_sync(self, *args: Any, **kwargs: Any) -> Job:
        """:meth:`enqueue` for plain ``def`` code that the app runs in a thread, such as
        a ``def`` handler: same validation, same binding to the request's transaction.
        """
        return self._plain.enqueue_sync(*args, **kwargs)

    def options(
        self,
        *,
        delay: float | dt.timedelta | None = None,
        at: dt.datetime | None = None,
        session: Any = None,
    ) -> Enqueuer:
        """Enqueue with options: ``await report.options(delay=60).enqueue(day=today)``.

        Args:
            delay: run no sooner than this many seconds (or this ``timedelta``) from now.
            at: run no sooner than this moment (a timezone-aware ``datetime``).
            session: a database session (``Session`` or ``AsyncSession``) whose transaction
                the job joins: with the PostgreSQL backend on the same database, the job
                is written in that transaction; otherwise it is queued when the request
                commits, as by default.
        """
        if delay is not None and at is not None:
            raise TaskArgumentsError("Give delay or at, not both.")
        if isinstance(delay, dt.timedelta):
            delay = delay.total_seconds()
        if at is not None and at.tzinfo is None:
            raise TaskArgumentsError("at= must be a timezone-aware datetime.")
        if delay is not None:
            at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        return Enqueuer(self, at, session)

    def plan(self, provided: frozenset[Any]) -> Plan:
        """How this task's parameters are filled when the types ``provided`` are injected."""
        plan = self._plans.get(provided)
        if plan is None:
            plan = self._plans[provided] = _plan(self, provided)
        return plan

    def payload(self, plan: Plan, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The JSON-ready arguments of one run, validated against the task's signature
        (``kwargs`` receives the positional ``args``)."""
        if len(args) > len(plan.positional):
            raise TaskArgumentsError(
                f"{self.name} takes {len(plan.positional)} arguments, {len(args)} were given."
            )
        for name, value in zip(plan.positional, args, strict=False):
            if name in kwargs:
                raise TaskArgumentsError(f"{self.name} got {name!r} twice.")
            kwargs[name] = value
        try:
            validated = plan.validator.validate_python(kwargs)
        except pydantic.ValidationError as exc:
            raise TaskArgumentsError(f"Invalid arguments for task {self.name}: {exc}") from None
        payload: dict[str, Any] = plan.serializer.to_python(validated, mode="json")
        return payload

    def arguments(self, plan: Plan, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The Python arguments of one run, from the payload a worker received."""
        validated = plan.validator.validate_python(dict(payload))
        # The model forbids extra fields: its __dict__ holds exactly the parameters.
        return dict(validated.__dict__)


class Enqueuer:
    """A task with enqueue options (see :meth:`Task.options`)."""

    __slots__ = ("at", "session", "task")

    def __init__(self, task: Task[Any], at: dt.datetime | None, session: Any) -> None:
        self.task = task
        self.at = at
        self.session = session

    async def enqueue(self, *args: Any, **kwargs: Any) -> Job:
        """Validate the arguments and queue a run (see :meth:`Task.enqueue`)."""
        if current_queue is None:  # pragma: no cover - nightowl.tasks sets it on import
            raise ImproperlyConfigured("Import nightowl.tasks to enqueue tasks.")
        job: Job = await current_queue().enqueue(self, args, kwargs)
        return job

    def enqueue_sync(self, *args: Any, **kwargs: Any) -> Job:
        """:meth:`enqueue` from plain ``def`` code (see :meth:`Task.enqueue_sync`)."""
        if current_queue is None:  # pragma: no cover - nightowl.tasks sets it on import
            raise ImproperlyConfigured("Import nightowl.tasks to enqueue tasks.")
        job: Job = current_queue().enqueue_sync(self, args, kwargs)
        return job


def _plan(task: Task[Any], provided: frozenset[Any]) -> Plan:
    func = task.func
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"The annotations of task {task.name} cannot be resolved: {exc}"
        ) from exc
    fields: dict[str, Any] = {}
    injected: dict[str, Any] = {}
    positional: list[str] = []
    for param in inspect.signature(func).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ImproperlyConfigured(f"Task {task.name} cannot take *args or **kwargs.")
        annotation = hints.get(param.name, Any)
        if _bare(annotation) in provided:
            injected[param.name] = _bare(annotation)
            continue
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
        if param.kind is not param.KEYWORD_ONLY:
            positional.append(param.name)
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{func.__name__}_arguments",
        __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
        **fields,
    )
    return Plan(model, injected, tuple(positional))


def _bare(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Annotated:
        return annotation.__origin__
    return annotation


def _check_cron(expression: str, name: str) -> None:
    try:
        from croniter import croniter
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImproperlyConfigured(
            "Cron schedules need croniter: pip install 'nightowl[tasks]'."
        ) from exc
    if not croniter.is_valid(expression):
        raise ImproperlyConfigured(f"Task {name} has an invalid cron expression {expression!r}.")


@overload
def task(func: Callable[..., R], /) -> Task[R]: ...


@overload
def task(
    *,
    name: str | None = None,
    queue: str = "default",
    retries: int = 0,
    retry_delay: float = 1.0,
    backoff: float = 2.0,
    timeout: float | None = None,
    cron: str | None = None,
) -> Callable[[Callable[..., R]], Task[R]]: ...


def task(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Make a function a task that workers run::

        @task(retries=3, timeout=30)
        async def send_email(user_id: int, db: AsyncSession) -> None:
            ...

        await send_email.enqueue(user_id=3)

    Arguments are checked against the annotations when enqueued; parameters whose type
    the app provides (``AsyncSession``, ``Session``, the settings) are injected by the
    worker. See :class:`Task` for the options.
    """
    if func is not None:
        return Task(func, **options)

    def decorator(func: Callable[..., Any]) -> Task[Any]:
        return Task(func, **options)

    return decorator
