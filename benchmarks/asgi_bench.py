"""In-process ASGI benchmark: nightowl against its peers, no network.

Each framework's ASGI callable is awaited directly with a prebuilt scope, a minimal
``receive`` and a no-op ``send``. Every app runs its lifespan startup first and has its
answers checked once before anything is timed. Samples are interleaved (round-robin
across frameworks, rotating the order), and the median of the samples is reported in
microseconds per request, with nightowl's speed relative to each peer.

    python benchmarks/asgi_bench.py                       # everything, defaults
    python benchmarks/asgi_bench.py --only query --frameworks nightowl,fastapi --async
    python benchmarks/asgi_bench.py --frameworks nightowl --baseline main   # old and new

``--baseline REF`` adds a row for the nightowl of git revision ``REF``, run in the same
process as the working tree's (see ``baseline.py`` for how the two are kept apart).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS
from baseline import Baseline, ModuleSet, detach, load_baseline

Message = MutableMapping[str, Any]
Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

SCENARIOS = ("hello", "path", "query", "body", "404")
POOL_SIZE = 1000
_DISCONNECT: Message = {"type": "http.disconnect"}
_BASE_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"asgi-bench/1.0"),
    (b"accept", b"*/*"),
]

#: The goals from the issue, checked at the end of a run.
TARGET = (
    "Target: faster than BlackSheep on every async row, in pure Python; plain def handlers "
    "at least 3x FastAPI's plain def rate while never blocking the event loop; "
    "HTTP at least 0.8x bare ASGI."
)


class Receiver:
    """An ASGI ``receive``: the request body once, then ``http.disconnect`` forever."""

    __slots__ = ("message",)

    def __init__(self, body: bytes) -> None:
        self.message: Message = {"type": "http.request", "body": body, "more_body": False}

    async def __call__(self) -> Message:
        message = self.message
        self.message = _DISCONNECT
        return message


async def _discard(message: Message) -> None:
    """The ``send`` used while timing: does nothing."""


@dataclass
class Request:
    """One prebuilt request and the answer it must get."""

    scope: Scope
    body: bytes
    status: int
    expected: Any  # the JSON body expected back, or None to check only the status


def _scope(method: str, path: str, query: bytes = b"", body: bytes = b"") -> Scope:
    headers = list(_BASE_HEADERS)
    if method == "POST":
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def build_pool(scenario: str, size: int = POOL_SIZE, seed: int = 7) -> list[Request]:
    """``size`` different requests for ``scenario`` (varying paths, query strings, bodies)."""
    rng = random.Random(seed)
    words = ["owl", "night", "forest", "moon", "hoot", "feather", "wing", "branch"]
    pool: list[Request] = []
    for i in range(size):
        if scenario == "hello":
            pool.append(Request(_scope("GET", "/"), b"", 200, {"message": "hello world"}))
        elif scenario == "path":
            user_id = rng.randrange(1, 10_000_000)
            pool.append(Request(_scope("GET", f"/users/{user_id}"), b"", 200, {"id": user_id}))
        elif scenario == "query":
            q = f"{rng.choice(words)}{i}"
            if i % 4 == 0:
                q += f" {rng.choice(words)}"  # encoded as '+': the decoder has work to do
            limit = rng.randrange(1, 500)
            query = f"q={quote_plus(q)}&limit={limit}".encode()
            pool.append(
                Request(_scope("GET", "/search", query), b"", 200, {"q": q, "limit": limit})
            )
        elif scenario == "body":
            item = {
                "name": f"{rng.choice(words)}-{i}",
                "price": round(rng.uniform(1, 1000), 2),
                "tags": rng.sample(words, rng.randrange(0, 4)),
            }
            body = json.dumps(item).encode()
            pool.append(Request(_scope("POST", "/items", body=body), body, 201, item))
        elif scenario == "404":
            pool.append(Request(_scope("GET", f"/missing/{i}"), b"", 404, None))
        else:
            raise ValueError(f"unknown scenario {scenario!r}")
    return pool


# -- lifespan -------------------------------------------------------------------------------
@dataclass
class Lifespan:
    """Drives an app's ASGI lifespan protocol: startup before timing, shutdown after."""

    app: ASGIApp
    state: dict[str, Any] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    to_app: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    from_app: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)

    async def _wait(self, expected: str) -> bool:
        assert self.task is not None
        getter = asyncio.ensure_future(self.from_app.get())
        done, _ = await asyncio.wait({getter, self.task}, timeout=30, return_when="FIRST_COMPLETED")
        if getter not in done:
            getter.cancel()
            if self.task in done:
                return False  # the app does not speak lifespan (or failed: reported below)
            raise RuntimeError(f"lifespan: no {expected} after 30 s")
        message = getter.result()
        if message["type"] != expected:
            raise RuntimeError(f"lifespan: expected {expected}, got {message}")
        return True

    async def startup(self) -> None:
        """Send ``lifespan.startup`` and wait for ``lifespan.startup.complete``."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self.task = asyncio.ensure_future(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        if not await self._wait("lifespan.startup.complete") and self.task.exception():
            raise RuntimeError(f"lifespan startup failed: {self.task.exception()!r}")

    async def shutdown(self) -> None:
        """Send ``lifespan.shutdown`` and wait for the app to finish."""
        if self.task is None or self.task.done():
            return
        await self.to_app.put({"type": "lifespan.shutdown"})
        await self._wait("lifespan.shutdown.complete")
        await asyncio.wait({self.task}, timeout=5)


# -- running --------------------------------------------------------------------------------
@dataclass
class Contender:
    """One framework app (async or sync handlers), started and ready."""

    name: str
    app: ASGIApp
    lifespan: Lifespan
    notes: str
    #: With ``--baseline``: this nightowl's modules, put in ``sys.modules`` while it runs.
    modules: ModuleSet | None = None

    def own_modules(self) -> contextlib.AbstractContextManager[None]:
        """A block in which lazy imports of nightowl find this contender's own modules."""
        return self.modules.active() if self.modules is not None else contextlib.nullcontext()


async def load(name: str, sync: bool, baseline: Baseline | None = None) -> Contender:
    """Import ``apps.<module>`` (or take the baseline's), build its app and run its startup."""
    is_baseline = baseline is not None and name == baseline.label
    modules = None
    if baseline is not None and is_baseline:
        modules = baseline.modules
    elif baseline is not None and name == "nightowl":
        modules = baseline.working
    with modules.active() if modules is not None else contextlib.nullcontext():
        if baseline is not None and is_baseline:
            module = baseline.module
        else:
            module = importlib.import_module(f"apps.{FRAMEWORKS[name]}")
        app = module.app_sync if sync else module.app_async
        lifespan = Lifespan(app)
        await lifespan.startup()
        start = getattr(module, "start", None)
        if start is not None:
            await start(app)
    notes = getattr(module, "NOTES", "")
    if baseline is not None and is_baseline:
        notes = f"commit {baseline.commit}; {notes}"
    return Contender(name, app, lifespan, notes, modules)


async def warm_baseline(baseline: Baseline) -> None:
    """One request per route to the baseline's apps, so that they compile and make their
    lazy imports while the old sources are first on ``sys.path``; then set them apart."""
    for app in (baseline.module.app_async, baseline.module.app_sync):
        for scenario in SCENARIOS:
            request = build_pool(scenario, size=1)[0]
            await app(_make_scope(request, {}), Receiver(request.body), _discard)
    detach(baseline)


def _make_scope(request: Request, state: dict[str, Any]) -> Scope:
    scope = dict(request.scope)
    scope["state"] = dict(state)
    return scope


async def verify(contender: Contender, scenario: str, pool: list[Request]) -> None:
    """Send a few requests from ``pool`` and fail loudly on a wrong status or body."""
    for request in pool[:5]:
        sent: list[Message] = []

        async def collect(message: Message, sent: list[Message] = sent) -> None:
            sent.append(message)

        scope = _make_scope(request, contender.lifespan.state)
        with contender.own_modules():
            await contender.app(scope, Receiver(request.body), collect)
        start = next((m for m in sent if m["type"] == "http.response.start"), None)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        where = f"{contender.name} {scenario} {request.scope['method']} {request.scope['path']}"
        if start is None:
            raise SystemExit(f"FAIL {where}: no http.response.start sent ({sent!r})")
        if start["status"] != request.status:
            raise SystemExit(
                f"FAIL {where}: status {start['status']} != {request.status}: {body[:300]!r}"
            )
        if request.expected is not None:
            try:
                got = json.loads(body)
            except ValueError:
                raise SystemExit(f"FAIL {where}: body is not JSON: {body[:300]!r}") from None
            if got != request.expected:
                raise SystemExit(f"FAIL {where}: body {got!r} != {request.expected!r}")


#: ``--clock``: wall time, or the CPU time of the whole process (every thread), which a
#: loaded machine moves less (time spent waiting for a core is not counted).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


async def time_once(
    contender: Contender,
    pool: list[Request],
    count: int,
    offset: int,
    concurrency: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds per request for ``count`` requests (scopes built before the clock starts).

    With ``concurrency`` > 1, requests go in ``asyncio.gather`` batches of that size, so
    thread-pool handlers can overlap (a throughput rather than a latency figure).
    """
    state = contender.lifespan.state
    size = len(pool)
    batch = [
        (_make_scope(pool[(offset + i) % size], state), Receiver(pool[(offset + i) % size].body))
        for i in range(count)
    ]
    with contender.own_modules():  # swapped before the clock starts
        gc.collect()
        start = clock()
        await drive(contender.app, batch, concurrency)
        elapsed = clock() - start
    return elapsed / count


async def drive(app: Any, batch: list[tuple[Any, Any]], concurrency: int) -> None:
    """Call ``app`` once per ``(scope, receive)``: in order, or in ``gather`` batches."""
    if concurrency <= 1:
        for scope, receive in batch:
            await app(scope, receive, _discard)
    else:
        for first in range(0, len(batch), concurrency):
            chunk = batch[first : first + concurrency]
            await asyncio.gather(*[app(scope, receive, _discard) for scope, receive in chunk])


async def run_mode(
    names: list[str],
    scenarios: list[str],
    sync: bool,
    requests: int,
    samples: int,
    concurrency: int = 1,
    baseline: Baseline | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, dict[str, float]]:
    """Median µs/request per scenario and framework, for async or sync handlers."""
    contenders: list[Contender] = []
    for name in names:
        try:
            contenders.append(await load(name, sync, baseline))
        except ImportError as exc:
            print(f"  skipping {name}: {exc} (pip install -r benchmarks/requirements.txt)")
    mode = "def" if sync else "async def"
    for contender in contenders:
        print(f"  {contender.name:<11} ({mode}): {contender.notes}")
    results: dict[str, dict[str, float]] = {}
    for scenario in scenarios:
        pool = build_pool(scenario)
        for contender in contenders:
            await verify(contender, scenario, pool)
            await time_once(contender, pool, min(200, requests), 0)  # warm-up
        timings: dict[str, list[float]] = {c.name: [] for c in contenders}
        for sample in range(samples):
            order = contenders[sample % len(contenders) :] + contenders[: sample % len(contenders)]
            for contender in order:
                seconds = await time_once(
                    contender, pool, requests, sample * requests, concurrency, clock
                )
                timings[contender.name].append(seconds)
        results[scenario] = {
            name: statistics.median(values) * 1e6 for name, values in timings.items()
        }
        row = "  ".join(f"{name} {us:.1f}" for name, us in results[scenario].items())
        print(f"  {scenario:<6} µs/request: {row}", flush=True)
    for contender in contenders:
        with contender.own_modules():
            await contender.lifespan.shutdown()
    return results


# -- reporting ------------------------------------------------------------------------------
def ratio_text(nightowl_us: float, peer_us: float) -> str:
    """``"1.8x faster"`` or ``"1.3x slower"``: nightowl relative to a peer."""
    if nightowl_us <= peer_us:
        return f"{peer_us / nightowl_us:.2f}x faster"
    return f"{nightowl_us / peer_us:.2f}x slower"


def report(title: str, results: dict[str, dict[str, float]], markdown: bool) -> None:
    """Print µs/request per scenario and framework, then nightowl's ratio to each peer."""
    if not results:
        return
    names = list(next(iter(results.values())))
    print(f"\n{title} (µs/request, median; lower is better)")
    if markdown:
        print("| scenario | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for scenario, row in results.items():
            print(f"| {scenario} | " + " | ".join(f"{row[n]:.1f}" for n in names) + " |")
    else:
        width = max(12, *(len(n) + 2 for n in names))
        print(f"{'scenario':<9}" + "".join(f"{n:>{width}}" for n in names))
        for scenario, row in results.items():
            print(f"{scenario:<9}" + "".join(f"{row[n]:>{width}.1f}" for n in names))
    if "nightowl" not in names:
        return
    peers = [n for n in names if n != "nightowl"]
    print(f"\n{title}: nightowl relative to each peer (speed ratio, >1 = nightowl faster)")
    for scenario, row in results.items():
        mine = row["nightowl"]
        parts = [f"{ratio_text(mine, row[p])} than {p}" for p in peers]
        print(f"  {scenario:<6} nightowl is " + "; ".join(parts))


def check_targets(
    async_results: dict[str, dict[str, float]], sync_results: dict[str, dict[str, float]]
) -> None:
    """Say which of the issue's targets the measured figures meet."""
    print("\n" + TARGET)
    for scenario, row in async_results.items():
        if "nightowl" in row and "blacksheep" in row:
            ok = row["nightowl"] < row["blacksheep"]
            print(
                f"  async {scenario:<6} nightowl {row['nightowl']:.1f} vs BlackSheep "
                f"{row['blacksheep']:.1f} µs: {'MET' if ok else 'NOT MET'}"
            )
    for scenario, row in sync_results.items():
        if "nightowl" in row and "fastapi" in row:
            speedup = row["fastapi"] / row["nightowl"]
            print(
                f"  def   {scenario:<6} nightowl {speedup:.2f}x FastAPI's rate (need >= 3): "
                f"{'MET' if speedup >= 3 else 'NOT MET'}"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per sample (4000)")
    parser.add_argument(
        "--sync-requests",
        type=int,
        default=None,
        help="requests per sample for def handlers (default: --requests / 4; thread hops are slow)",
    )
    parser.add_argument("--samples", type=int, default=7, help="samples per figure (7)")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"scenarios, comma-separated: {SCENARIOS}"
    )
    parser.add_argument(
        "--frameworks", default=",".join(FRAMEWORKS), help="frameworks, comma-separated"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sync", action="store_true", help="only plain def handlers")
    mode.add_argument("--async", dest="async_only", action="store_true", help="only async def")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="requests in flight at once (1: sequential latency; >1: gather batches)",
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="wall",
        help="wall time, or the process's CPU time (steadier on a loaded machine)",
    )
    parser.add_argument("--markdown", action="store_true", help="print tables as markdown")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--baseline",
        metavar="GIT_REF",
        help="also run the nightowl of this git revision, as the row nightowl@GIT_REF",
    )
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for scenario in args.only:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose from {SCENARIOS}")
    for name in args.frameworks:
        if name not in FRAMEWORKS:
            parser.error(f"unknown framework {name!r}; choose from {list(FRAMEWORKS)}")
    if args.sync_requests is None:
        args.sync_requests = max(50, args.requests // 4)
    if args.baseline:
        # The old nightowl's row right after today's (or first, when today's is not run).
        at = args.frameworks.index("nightowl") + 1 if "nightowl" in args.frameworks else 0
        args.frameworks.insert(at, f"nightowl@{args.baseline}")
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected modes and print the report."""
    out: dict[str, Any] = {}
    async_results: dict[str, dict[str, float]] = {}
    sync_results: dict[str, dict[str, float]] = {}
    baseline = None
    if args.baseline:
        baseline = load_baseline(args.baseline)
        await warm_baseline(baseline)
        print(f"baseline: nightowl at {args.baseline} (commit {baseline.commit})")
    try:
        await run_modes(args, baseline, async_results, sync_results)
    finally:
        if baseline is not None:
            baseline.close()
    what = "" if args.clock == "wall" else ", CPU time"
    report(f"async def handlers{what}", async_results, args.markdown)
    report(f"plain def handlers{what}", sync_results, args.markdown)
    check_targets(async_results, sync_results)
    out["async"] = async_results
    out["sync"] = sync_results
    return out


async def run_modes(
    args: argparse.Namespace,
    baseline: Baseline | None,
    async_results: dict[str, dict[str, float]],
    sync_results: dict[str, dict[str, float]],
) -> None:
    """Run the ``async def`` and the plain ``def`` handlers, as the options say; the
    figures go into the two dicts."""
    if not args.sync:
        print(
            f"async def handlers: {args.samples} samples x {args.requests} requests, "
            f"concurrency {args.concurrency}"
        )
        async_results.update(
            await run_mode(
                args.frameworks,
                args.only,
                False,
                args.requests,
                args.samples,
                args.concurrency,
                baseline,
                CLOCKS[args.clock],
            )
        )
    if not args.async_only:
        print(
            f"\nplain def handlers: {args.samples} samples x {args.sync_requests} requests, "
            f"concurrency {args.concurrency}"
        )
        sync_results.update(
            await run_mode(
                args.frameworks,
                args.only,
                True,
                args.sync_requests,
                args.samples,
                args.concurrency,
                baseline,
                CLOCKS[args.clock],
            )
        )


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, loop={args.loop}, "
        f"scenarios={','.join(args.only)}"
    )
    started = time.perf_counter()
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("uvloop is not installed; using asyncio's loop")
            results = asyncio.run(main_async(args))
        else:
            results = uvloop.run(main_async(args))
    else:
        results = asyncio.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
