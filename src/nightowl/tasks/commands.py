"""``nightowl worker``: run the app's jobs in this process until stopped.

Declared in the ``nightowl.commands`` entry-point group. It loads the app (``--app``,
``$NIGHTOWL_APP``, ``app.py``), starts it (so its database and other providers are
ready), and runs a worker of the app's task backend; SIGINT or SIGTERM stop it, letting
the running jobs finish first.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click

from nightowl.cli.group import ScriptInfo
from nightowl.exceptions import ImproperlyConfigured

__all__ = ["worker"]


@click.command()
@click.option("--concurrency", "-c", default=10, show_default=True, help="Jobs run at once.")
@click.option(
    "--queue", "-q", "queues", multiple=True, help="Take jobs from this queue only (repeatable)."
)
@click.option("--heartbeat", default=10.0, show_default=True, help="Seconds between heartbeats.")
@click.option(
    "--stalled-after",
    default=30.0,
    show_default=True,
    help="Seconds without a heartbeat after which a worker's jobs are run again.",
)
def worker(
    concurrency: int, queues: tuple[str, ...], heartbeat: float, stalled_after: float
) -> None:
    """Run the app's background jobs (nightowl.tasks)."""
    from nightowl.tasks._queue import Tasks
    from nightowl.tasks.backends import WorkerOptions

    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    tasks = getattr(getattr(app, "state", None), "tasks", None)
    if not isinstance(tasks, Tasks):
        raise click.ClickException(
            "The app has no task queue: give it one with App(tasks='postgresql://...') "
            "or App(tasks='redis://...')."
        )
    try:
        options = WorkerOptions(
            concurrency=concurrency, queues=queues, heartbeat=heartbeat, stalled_after=stalled_after
        )
        asyncio.run(_serve(app, tasks, options))
    except ImproperlyConfigured as exc:
        raise click.ClickException(str(exc)) from None


async def _serve(app: Any, tasks: Any, options: Any) -> None:
    async with app.lifespan_context():
        await tasks.backend.open()
        work = asyncio.current_task()
        loop = asyncio.get_running_loop()
        running = asyncio.ensure_future(tasks.work(options))
        stopping = False

        def stop() -> None:
            nonlocal stopping
            if not stopping:  # once: a second signal must not cut the graceful stop short
                stopping = True
                running.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        click.echo(f"Worker running ({type(tasks.backend).__name__}); stop with Ctrl+C.")
        try:
            await running
        except asyncio.CancelledError:
            if work is not None and work.cancelling():
                raise
        click.echo("Worker stopped.")
