"""Instructions per request on the database rows: a figure the machine's load does not move.

``db_bench.py`` times requests, and on a shared machine its rows move by more than the
differences between frameworks that all spend ~95% of a 20-statement request in
SQLAlchemy and asyncpg. This script counts the CPU instructions the benchmark process
executes per request instead (valgrind's cachegrind, no cache simulation): repeatable to
about 1% whatever else the machine is doing. The PostgreSQL server is not counted.

Each app and row runs in a process of its own under valgrind, twice: once with only the
warm-up requests, once with the warm-up plus ``N`` more (each twice, keeping the
smaller count); the difference divided by ``N`` is the figure. Request ids come from a seeded generator, so every app reads the same rows.

    python benchmarks/db_instructions.py                       # ~7 min on 2 cores
    python benchmarks/db_instructions.py --only queries,updates --scale 0.5
    python benchmarks/db_instructions.py --frameworks nightowl,litestar --concurrency 16

Needs valgrind (``apt-get install -y valgrind``) and the same PostgreSQL as ``db_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps.techempower import SCHEMA, DbConfig
from asgi_bench import drive
from db_bench import CONTENDERS, DEFAULT_URL, PEERS, SCENARIOS, connect, create_tables, drop_tables
from te_harness import Receiver

#: Row -> (path, query, requests counted by default).
ROWS: dict[str, tuple[str, bytes, int]] = {
    "db": ("/db", b"", 300),
    "queries": ("/queries", b"queries=20", 100),
    "fortunes": ("/fortunes.json", b"", 300),
    "updates": ("/updates", b"queries=20", 100),
}
WARMUP = 40
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


# -- one measured process ----------------------------------------------------------------------
async def run_child(name: str, row: str, count: int, concurrency: int, url: str) -> None:
    """Warm ``name`` up on ``row``, then send ``count`` more requests (the counted part)."""
    import db_bench

    random.seed(20261125)
    contender = await db_bench.load(name, DbConfig(url, pool_size=16, max_overflow=0))
    if contender is None:
        raise SystemExit(f"{name} is not installed")
    path, query, _ = ROWS[row]
    try:
        for count_now in (WARMUP, count):
            batch = [(contender.scope(path, query), Receiver()) for _ in range(count_now)]
            await drive(contender.app, batch, concurrency)
    finally:
        await contender.stop()


# -- the parent --------------------------------------------------------------------------------
def count_instructions(args: argparse.Namespace, name: str, row: str, count: int) -> int:
    """Instructions executed by one child process under cachegrind."""
    command = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        name,
        row,
        str(count),
        "--concurrency",
        str(args.concurrency),
        "--database-url",
        args.database_url,
    ]
    env = {**os.environ, "NIGHTOWL_BENCH_SCHEMA": SCHEMA, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        tail = "\n".join(done.stderr.splitlines()[-15:])
        raise SystemExit(f"{name} {row} ({count} requests) failed:\n{tail}")
    return int(found.group(1).replace(",", ""))


def per_request(args: argparse.Namespace, name: str, row: str) -> float:
    """Instructions per request: (warm-up + N) minus warm-up only, over N.

    Each process runs twice and the smaller count is kept: a process's own count still
    moves by about 1% (when asyncpg's reads happen to split a reply, when a garbage
    collection falls), which the minimum mostly removes.
    """
    count = max(1, int(ROWS[row][2] * args.scale))
    with ThreadPoolExecutor(2) as pool:
        base = [pool.submit(count_instructions, args, name, row, 0) for _ in range(2)]
        full = [pool.submit(count_instructions, args, name, row, count) for _ in range(2)]
        least_full = min(f.result() for f in full)
        return (least_full - min(f.result() for f in base)) / count


def print_table(results: dict[str, dict[str, float]], names: list[str], concurrency: int) -> None:
    """A markdown table in thousands of instructions, and nightowl against the fewest peer."""
    peers = [n for n in names if n in PEERS]
    print(f"\nInstructions per request, thousands (c={concurrency}; lower is better)\n")
    print("| row | " + " | ".join(names) + " | nightowl vs the leanest peer |")
    print("|---" * (len(names) + 2) + "|")
    for row, figures in results.items():
        cells = [f"{figures[n] / 1000:,.0f}" for n in names]
        verdict = "-"
        if "nightowl" in figures and peers:
            peer = min(peers, key=lambda p: figures[p])
            verdict = f"{_fewer(figures['nightowl'], figures[peer])} than {peer}"
        print(f"| {row} | " + " | ".join(cells) + f" | {verdict} |")


async def prepare(url: str, create: bool) -> bool:
    """Create (or drop) the benchmark schema; False when PostgreSQL is unreachable."""
    conn = await connect(url)
    if conn is None:
        return False
    try:
        await (create_tables(conn) if create else drop_tables(conn))
    finally:
        await conn.close()
    return True


def main(argv: list[str] | None = None) -> None:
    """Entry point (``--child`` runs one measured process)."""
    args = parse_args(argv)
    if args.child:
        name, row, count = args.child
        _run(run_child(name, row, int(count), args.concurrency, args.database_url))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    if not _run(prepare(args.database_url, create=True)):
        return
    started = time.perf_counter()
    results: dict[str, dict[str, float]] = {}
    try:
        for row in args.only:
            for name in args.frameworks:
                figure = per_request(args, name, row)
                results.setdefault(row, {})[name] = figure
                print(f"  {row:<9} {name:<16} {figure / 1000:,.0f}k instructions/request")
    finally:
        _run(prepare(args.database_url, create=False))
    print_table(results, args.frameworks, args.concurrency)
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _fewer(mine: float, theirs: float) -> str:
    if mine <= theirs:
        return f"{theirs / mine:.3f}x fewer"
    return f"{mine / theirs:.3f}x more"


def _run(coroutine: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"rows: {SCENARIOS}")
    parser.add_argument(
        "--frameworks", default="nightowl,litestar,fastapi", help=f"from {list(CONTENDERS)}"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight (1)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the counted requests (db 300, queries 100, ...)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--child", nargs=3, metavar=("APP", "ROW", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for row in args.only:
        if row not in ROWS:
            parser.error(f"unknown row {row!r}; choose from {list(ROWS)}")
    for name in args.frameworks:
        if name not in CONTENDERS:
            parser.error(f"unknown framework {name!r}; choose from {list(CONTENDERS)}")
    return args


if __name__ == "__main__":
    main()
