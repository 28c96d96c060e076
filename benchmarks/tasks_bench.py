"""Task overhead: nightowl.tasks against the same engine used directly, side by side.

For each engine (procrastinate on PostgreSQL, SAQ on Redis) and each side (nightowl's
``@task`` with ``App(tasks=url)``, and the engine's own task API), in this process:

* ``enqueue``: jobs per second of N enqueues one after another, no worker running.
* ``drain``: tasks per second a worker (concurrency C) runs N queued no-op jobs, from the
  first job's start to the last one's end.
* ``latency``: enqueue-to-start of M jobs one at a time, an idle worker waiting: median
  and p99 in milliseconds.

The two sides alternate for R rounds, each on emptied queues (their own queue names, so
neither worker sees the other's jobs; each side goes first in every other round). The
median round (for CPU times, the least) is printed, and the ratio of nightowl to direct,
turned so that above 1.00 nightowl is ahead: the median of the rounds' own ratios, with
their range. Rates and latencies are wall-clock times, which a busy machine stretches;
the CPU time this process spends per job (enqueueing, and working: the engines' own
servers excluded) is the steadier measure of what nightowl adds.
PostgreSQL gets a scratch database ``nightowl_tasks_bench``; Redis uses database 14 and
empties it. A side whose server is unreachable is skipped with a note.

    python benchmarks/tasks_bench.py                      # both engines, ~3 min on 2 cores
    python benchmarks/tasks_bench.py --engines saq --jobs 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql://postgres@127.0.0.1:5432/nightowl_tasks_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass
class Tracker:
    """When each job started and ended, and an event per job and for the whole batch."""

    expected: int = 0
    starts: dict[int, float] = field(default_factory=dict)
    ends: dict[int, float] = field(default_factory=dict)
    started: dict[int, asyncio.Event] = field(default_factory=dict)
    all_done: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self, expected: int) -> None:
        self.expected = expected
        self.starts.clear()
        self.ends.clear()
        self.started.clear()
        self.all_done = asyncio.Event()

    def run(self, n: int) -> None:
        self.starts[n] = time.perf_counter()
        event = self.started.get(n)
        if event is not None:
            event.set()
        self.ends[n] = time.perf_counter()
        if len(self.ends) >= self.expected:
            self.all_done.set()


TRACKER = Tracker()


@dataclass
class Side:
    """One way of enqueueing and working: nightowl's or the engine's own."""

    name: str
    opened: Callable[[], contextlib.AbstractAsyncContextManager[None]]
    enqueue: Callable[[int], Awaitable[Any]]
    work: Callable[[int], Awaitable[None]]
    empty: Callable[[], Awaitable[None]]


# -- the two engines, both ways ------------------------------------------------------------------
def procrastinate_sides() -> list[Side]:
    import procrastinate
    import psycopg

    from nightowl import App
    from nightowl.tasks import WorkerOptions, task

    direct_app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=PG_URL))

    @direct_app.task(name="bench.direct_noop", queue="direct")
    async def direct_noop(n: int) -> None:
        TRACKER.run(n)

    @task(name="bench.pg_noop", queue="nightowl")
    async def nightowl_noop(n: int) -> None:
        TRACKER.run(n)

    app = App(tasks=PG_URL)

    @contextlib.asynccontextmanager
    async def direct_opened() -> AsyncIterator[None]:
        async with direct_app.open_async():
            yield

    @contextlib.asynccontextmanager
    async def nightowl_opened() -> AsyncIterator[None]:
        async with app.lifespan_context():
            yield

    def worker(papp: Any, queue: str) -> Callable[[int], Awaitable[None]]:
        async def work(concurrency: int) -> None:
            await papp.run_worker_async(
                queues=[queue],
                concurrency=concurrency,
                install_signal_handlers=False,
                wait=True,
                fetch_job_polling_interval=1.0,
            )

        return work

    async def nightowl_work(concurrency: int) -> None:
        await app.state.tasks.work(WorkerOptions(concurrency=concurrency, queues=["nightowl"]))

    async def empty() -> None:
        async with await psycopg.AsyncConnection.connect(PG_URL, autocommit=True) as connection:
            await connection.execute(
                "DELETE FROM procrastinate_jobs WHERE status NOT IN ('todo', 'doing')"
            )

    return [
        Side(
            "nightowl", nightowl_opened, lambda n: nightowl_noop.enqueue(n=n), nightowl_work, empty
        ),
        Side(
            "procrastinate",
            direct_opened,
            lambda n: direct_noop.defer_async(n=n),
            worker(direct_app, "direct"),
            empty,
        ),
    ]


def saq_sides() -> list[Side]:
    import redis.asyncio
    from saq import Queue, Worker

    from nightowl import App
    from nightowl.tasks import WorkerOptions, task

    queue = Queue.from_url(REDIS_URL, name="direct")

    async def direct_noop(ctx: dict[str, Any], *, n: int) -> None:
        TRACKER.run(n)

    @task(name="bench.saq_noop", queue="nightowl-saq")
    async def nightowl_noop(n: int) -> None:
        TRACKER.run(n)

    app = App(tasks=REDIS_URL)

    @contextlib.asynccontextmanager
    async def direct_opened() -> AsyncIterator[None]:
        await queue.connect()
        try:
            yield
        finally:
            await queue.disconnect()

    @contextlib.asynccontextmanager
    async def nightowl_opened() -> AsyncIterator[None]:
        async with app.lifespan_context():
            yield

    async def direct_work(concurrency: int) -> None:
        worker = Worker(queue, functions=[("direct_noop", direct_noop)], concurrency=concurrency)
        try:
            await worker.start()
        finally:
            await worker.stop()

    async def nightowl_work(concurrency: int) -> None:
        await app.state.tasks.work(WorkerOptions(concurrency=concurrency, queues=["nightowl-saq"]))

    async def empty() -> None:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        await client.flushdb()
        await client.aclose()

    return [
        Side(
            "nightowl", nightowl_opened, lambda n: nightowl_noop.enqueue(n=n), nightowl_work, empty
        ),
        Side(
            "saq",
            direct_opened,
            lambda n: queue.enqueue("direct_noop", n=n),
            direct_work,
            empty,
        ),
    ]


# -- measuring -----------------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def running(side: Side, concurrency: int) -> AsyncIterator[None]:
    worker = asyncio.create_task(side.work(concurrency))
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def measure(side: Side, jobs: int, samples: int, concurrency: int) -> dict[str, float]:
    async with side.opened():
        await side.empty()
        TRACKER.reset(jobs)
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(jobs):
            await side.enqueue(n)
        enqueue_rate = jobs / (time.perf_counter() - started)
        enqueue_cpu = (time.process_time() - cpu) / jobs

        cpu = time.process_time()
        async with running(side, concurrency):
            await asyncio.wait_for(TRACKER.all_done.wait(), 300)
            drain_cpu = (time.process_time() - cpu) / jobs
            drain_rate = jobs / (max(TRACKER.ends.values()) - min(TRACKER.starts.values()))
            await side.empty()
            await asyncio.sleep(0.5)  # the worker is idle, listening
            TRACKER.reset(samples)
            latencies = []
            for n in range(samples):
                event = TRACKER.started[n] = asyncio.Event()
                sent = time.perf_counter()
                await side.enqueue(n)
                await asyncio.wait_for(event.wait(), 30)
                latencies.append(TRACKER.starts[n] - sent)
        await side.empty()
    latencies.sort()
    return {
        "enqueue/s": enqueue_rate,
        "enqueue CPU µs/job": 1e6 * enqueue_cpu,
        "drain tasks/s": drain_rate,
        "drain CPU µs/job": 1e6 * drain_cpu,
        "latency p50 ms": 1000 * statistics.median(latencies),
        "latency p99 ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def create_pg_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'nightowl_tasks_bench'"
        ).fetchone()
        if not found:
            connection.execute("CREATE DATABASE nightowl_tasks_bench")


async def compare(
    engine: str, sides: list[Side], rounds: int, jobs: int, samples: int, concurrency: int
) -> None:
    results: dict[str, list[dict[str, float]]] = {side.name: [] for side in sides}
    for round_number in range(rounds):
        # Each side goes first in every other round: the machine's drift and whatever the
        # first side leaves behind (a warm pool, a busy autovacuum) fall on both.
        for side in sides if round_number % 2 == 0 else sides[::-1]:
            results[side.name].append(await measure(side, jobs, samples, concurrency))
    ours, theirs = sides[0].name, sides[1].name
    print(
        f"\n{engine}: {jobs} jobs, {samples} latency samples, concurrency {concurrency}, "
        f"{rounds} rounds"
    )
    print(f"| measure | {ours} | {theirs} | ratio | ratio, range over rounds |")
    print("|---|---:|---:|---:|---|")
    for key in results[ours][0]:
        # CPU time: the least of the rounds (what the code needs, less the machine's noise);
        # wall-clock rates and latencies: the median round.
        pick = min if "CPU" in key else statistics.median
        mine = pick(r[key] for r in results[ours])
        other = pick(r[key] for r in results[theirs])
        lower_is_better = "latency" in key or "CPU" in key
        # The ratio is taken round by round (the two sides of a round ran one after the
        # other, on the same machine's mood) and its median printed: a paired comparison.
        ratios = sorted(
            (b[key] / a[key] if lower_is_better else a[key] / b[key])
            for a, b in zip(results[ours], results[theirs], strict=True)
        )
        ratio = statistics.median(ratios)
        spread = f"{ratios[0]:.2f} to {ratios[-1]:.2f}"
        print(f"| {key} | {mine:,.1f} | {other:,.1f} | {ratio:.2f} | {spread} |")


# -- instructions per job (--instructions) ------------------------------------------------------
_SUMMARY = re.compile(r"^summary: (\d+)$", re.MULTILINE)
_TRIGGER = re.compile(r"^desc: Trigger: dump (\w+)$", re.MULTILINE)


def mark(label: str) -> None:
    """Have callgrind, which runs this process, write what it counted since the last mark."""
    command = ["callgrind_control", f"--dump={label}", str(os.getpid())]
    subprocess.run(command, check=True, capture_output=True)


async def count_child(side: Side, jobs: int, concurrency: int) -> None:
    """The counted process of one side: its phases, each ended by a :func:`mark`."""
    async with side.opened():
        await side.empty()
        TRACKER.reset(2 * jobs)
        for n in range(jobs):  # warm-up: the first enqueues build what later ones reuse
            await side.enqueue(n)
        mark("setup")
        for n in range(jobs, 2 * jobs):
            await side.enqueue(n)
        mark("enqueue")  # enqueues alone, no worker running
        async with running(side, concurrency):
            await asyncio.wait_for(TRACKER.all_done.wait(), 600)
            mark("start")  # the worker started and drained the first 2N jobs
            TRACKER.reset(jobs)
            for n in range(jobs):
                await side.enqueue(n)
            await asyncio.wait_for(TRACKER.all_done.wait(), 600)
            mark("both")  # N jobs enqueued while the running worker ran them
        await side.empty()


def count_side(engine: str, side: str, jobs: int, concurrency: int) -> dict[str, float]:
    """Run one side under callgrind; instructions per job of its phases."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={folder}/out.%p",
            sys.executable,  # the virtual environment's, not the one it links to
            __file__,
            "--count-child",
            engine,
            side,
            "--jobs",
            str(jobs),
            "--concurrency",
            str(concurrency),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{engine}/{side} under valgrind failed:\n{done.stderr[-3000:]}")
        counts: dict[str, int] = {}
        for path in Path(folder).iterdir():
            text = path.read_text(errors="replace")
            trigger, summary = _TRIGGER.search(text), _SUMMARY.search(text)
            if trigger and summary:
                counts[trigger.group(1)] = int(summary.group(1))
    enqueue = counts["enqueue"] / jobs
    both = counts["both"] / jobs
    return {"enqueue": enqueue, "run": both - enqueue, "enqueue and run": both}


def instructions_main(engines: list[str], jobs: int, concurrency: int) -> None:
    """Instructions per job, nightowl and the engine, each side in a process of its own
    under callgrind (the two engines at once, the sides of one in turn)."""
    if shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind (apt-get install -y valgrind)")
    found: dict[tuple[str, str], dict[str, float]] = {}

    def count_engine(engine: str) -> None:
        # One side at a time per engine: SAQ's side empties the whole Redis database.
        for side in ("nightowl", engine):
            found[engine, side] = count_side(engine, side, jobs, concurrency)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(count_engine, engines))
    for engine in engines:
        ours, theirs = found[engine, "nightowl"], found[engine, engine]
        print(f"\n{engine}: instructions per job (millions), {jobs} jobs counted")
        print(f"| phase | nightowl | {engine} | ratio |")
        print("|---|---:|---:|---:|")
        for key in ours:
            mine, other = ours[key] / 1e6, theirs[key] / 1e6
            print(f"| {key} | {mine:.3f} | {other:.3f} | {other / mine:.2f} |")


def engine_sides(engine: str) -> list[Side] | None:
    """Both sides of ``engine``; ``None`` (and a note) when its server is unreachable."""
    if engine == "procrastinate":
        if not reachable(5432):
            print("\nprocrastinate: skipped, PostgreSQL is not reachable on 127.0.0.1:5432")
            return None
        create_pg_database()
        return procrastinate_sides()
    if engine == "saq":
        if not reachable(6379):
            print("\nsaq: skipped, Redis is not reachable on 127.0.0.1:6379")
            return None
        return saq_sides()
    raise SystemExit(f"unknown engine {engine!r} (procrastinate, saq)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="procrastinate,saq")
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per job under valgrind instead (--jobs 200 is plenty)",
    )
    parser.add_argument(
        "--count-child", nargs=2, metavar=("ENGINE", "SIDE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    engines = args.engines.split(",")
    if args.count_child:
        engine, name = args.count_child
        sides = engine_sides(engine) or []
        side = next(side for side in sides if side.name == name)
        asyncio.run(count_child(side, args.jobs, args.concurrency))
        return
    if args.instructions:
        instructions_main(engines, args.jobs, args.concurrency)
        return
    for engine in engines:
        sides = engine_sides(engine)
        if sides is not None:
            asyncio.run(
                compare(engine, sides, args.rounds, args.jobs, args.samples, args.concurrency)
            )


if __name__ == "__main__":
    main()
