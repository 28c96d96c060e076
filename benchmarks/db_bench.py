"""TechEmpower-style database benchmark on PostgreSQL, in process: nightowl vs its peers.

Rows: single query (``/db``), 20 queries (``/queries?queries=20``), fortunes as JSON
(``/fortunes.json``) and 20 updates (``/updates?queries=20``), each one request at a time
and with 16 in flight (``asyncio.gather`` batches). Every app uses SQLAlchemy ORM
sessions on asyncpg with the same pool (16 connections, no overflow): nightowl through
its database battery (``App(database=...)``, ``AsyncSession`` by annotation), FastAPI and
Litestar through a per-request session dependency.

The tables live in a schema of their own (``nightowl_bench_<pid>``), created and filled
at the start and dropped at the end. Each app's answers are checked against the database
before timing (the updates must be committed). Without a reachable server, or without a
peer's package, the run skips with a note.

    python benchmarks/db_bench.py                          # defaults, ~2 min on 2 cores
    python benchmarks/db_bench.py --only db,updates --concurrency 16
    python benchmarks/db_bench.py --frameworks nightowl,nightowl-noping,fastapi --scale 0.5
    python benchmarks/db_bench.py --round-trips            # statements per request, no timing
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps.techempower import FORTUNES, SCHEMA, WORLD_ROWS, DbConfig
from te_harness import (
    Contender,
    Lifespan,
    Scenario,
    call,
    check_fortunes_json,
    print_tables,
    run_main,
    run_scenario,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
#: name -> (module under apps, build keyword arguments, description)
CONTENDERS: dict[str, tuple[str, dict[str, Any], str]] = {
    "nightowl": ("db_nightowl", {}, "async def + AsyncSession (battery defaults)"),
    "fastapi": ("db_fastapi", {}, ""),
    "litestar": ("db_litestar", {}, ""),
    "nightowl-sync": ("db_nightowl", {"sync": True}, "plain def + Session (psycopg, thread pool)"),
    "nightowl-noping": (
        "db_nightowl",
        {"pool_pre_ping": False},
        "async def + AsyncSession, App(database={..., 'pool_pre_ping': False})",
    ),
}
DEFAULT_CONTENDERS = "nightowl,fastapi,litestar,nightowl-sync,nightowl-noping"
PEERS = ["fastapi", "litestar"]
SCENARIOS = ("db", "queries", "fortunes", "updates")
#: The issue's goal for these rows.
TARGET = "Target: nightowl at least as fast as the faster peer (FastAPI, Litestar) on every row."


# -- the database -------------------------------------------------------------------------------
async def connect(url: str) -> Any:
    """An asyncpg connection for setup and checks, or None (with a note) when unreachable."""
    try:
        import asyncpg
    except ImportError:
        print("skipping: asyncpg is not installed (pip install 'nightowl[postgres]')")
        return None
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        return await asyncpg.connect(plain, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        print(f"skipping: PostgreSQL is not reachable at {plain}: {exc!r}")
        return None


async def create_tables(conn: Any) -> None:
    """Create :data:`SCHEMA` with ``world`` (10,000 rows) and ``fortune`` (the 12)."""
    await conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
    await conn.execute(
        f'CREATE TABLE "{SCHEMA}".world (id integer PRIMARY KEY, randomnumber integer NOT NULL)'
    )
    await conn.execute(
        f'CREATE TABLE "{SCHEMA}".fortune (id integer PRIMARY KEY, message text NOT NULL)'
    )
    rng = random.Random(42)
    worlds = [(i, rng.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)]
    await conn.copy_records_to_table("world", schema_name=SCHEMA, records=worlds)
    await conn.copy_records_to_table("fortune", schema_name=SCHEMA, records=FORTUNES)
    await conn.execute(f'ANALYZE "{SCHEMA}".world')
    await conn.execute(f'ANALYZE "{SCHEMA}".fortune')


async def drop_tables(conn: Any) -> None:
    """Drop :data:`SCHEMA` and everything in it."""
    await conn.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')


# -- checks -------------------------------------------------------------------------------------
def _world_checker(conn: Any) -> Callable[[Any, int], Awaitable[None]]:
    async def check_worlds(rows: Any, count: int) -> None:
        assert isinstance(rows, list) and len(rows) == count, f"want {count} rows: {rows!r}"
        for row in rows:
            assert set(row) == {"id", "randomNumber"}, f"keys {sorted(row)}"
            assert 1 <= row["id"] <= WORLD_ROWS, f"id {row['id']}"
            stored = await conn.fetchval(
                f'SELECT randomnumber FROM "{SCHEMA}".world WHERE id = $1', row["id"]
            )
            assert row["randomNumber"] == stored, f"{row} but the table has {stored}"

    return check_worlds


def build_scenarios(conn: Any, queries: int) -> dict[str, Scenario]:
    """The four rows, each with its correctness check (against the database)."""
    check_worlds = _world_checker(conn)
    n = str(queries).encode()

    async def check_db(c: Contender) -> None:
        for _ in range(3):
            reply = await call(c, "/db")
            assert reply.status == 200, f"status {reply.status}: {reply.body[:300]!r}"
            assert reply.headers.get("content-type", "").startswith("application/json")
            row = reply.json()
            assert isinstance(row, dict), f"not an object: {row!r}"
            await check_worlds([row], 1)

    async def check_queries(c: Contender) -> None:
        for query, count in ((b"queries=" + n, queries), (b"queries=0", 1), (b"queries=501", 500)):
            reply = await call(c, "/queries", query)
            assert reply.status == 200, f"{query!r}: status {reply.status}: {reply.body[:300]!r}"
            await check_worlds(reply.json(), count)

    async def check_fortunes(c: Contender) -> None:
        for _ in range(2):
            check_fortunes_json(await call(c, "/fortunes.json"))

    async def check_updates(c: Contender) -> None:
        for _ in range(2):
            reply = await call(c, "/updates", b"queries=" + n)
            assert reply.status == 200, f"status {reply.status}: {reply.body[:300]!r}"
            await check_worlds(reply.json(), queries)  # committed: the table has the new numbers

    return {
        "db": Scenario("db", "/db", requests=500, check=check_db),
        "queries": Scenario(f"queries ({queries})", "/queries", b"queries=" + n, 50, check_queries),
        "fortunes": Scenario("fortunes.json", "/fortunes.json", requests=500, check=check_fortunes),
        "updates": Scenario(f"updates ({queries})", "/updates", b"queries=" + n, 40, check_updates),
    }


# -- round trips --------------------------------------------------------------------------------
async def count_round_trips(contenders: list[Contender], scenarios: list[Scenario]) -> None:
    """Print the statements each app sends per request (asyncpg's methods wrapped for a while).

    Counts ``Connection.execute`` (BEGIN, COMMIT, ROLLBACK), ``Connection.fetchrow`` (the
    pre-ping's ``;``), ``Connection.executemany`` and ``PreparedStatement.fetch`` /
    ``executemany`` (the ORM's SELECTs and UPDATEs): one round trip each.
    """
    from asyncpg import connection, prepared_stmt

    counts: Counter[str] = Counter()
    targets = [
        (connection.Connection, "execute"),
        (connection.Connection, "fetchrow"),
        (connection.Connection, "executemany"),
        (prepared_stmt.PreparedStatement, "fetch"),
        (prepared_stmt.PreparedStatement, "executemany"),
    ]
    originals = [(cls, name, getattr(cls, name)) for cls, name in targets]

    def wrap(original: Any, name: str) -> Any:
        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            query = args[0] if args and isinstance(args[0], str) else ""
            label = query.strip().rstrip(";").split(" ")[0].upper() or ";" if query else name
            counts[label if query else f"prepared {name}"] += 1
            return await original(self, *args, **kwargs)

        return counted

    for cls, name, original in originals:
        setattr(cls, name, wrap(original, name))
    try:
        print("\n### Round trips per request (mean of 10 requests)\n")
        print("| app | row | total | statements |")
        print("|---|---|---|---|")
        for contender in contenders:
            for scenario in scenarios:
                await call(contender, scenario.path, scenario.query)  # connections warm
                counts.clear()
                for _ in range(10):
                    await call(contender, scenario.path, scenario.query)
                detail = ", ".join(f"{k} {v / 10:g}" for k, v in sorted(counts.items()))
                total = sum(counts.values()) / 10
                if not total:
                    detail = "not counted (a sync driver, not asyncpg)"
                print(f"| {contender.name} | {scenario.name} | {total:g} | {detail} |")
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)


# -- running ------------------------------------------------------------------------------------
async def load(name: str, config: DbConfig) -> Contender | None:
    """Build ``name``'s app and run its lifespan startup; None (with a note) when not installed."""
    module_name, options, description = CONTENDERS[name]
    try:
        module = importlib.import_module(f"apps.{module_name}")
    except ImportError as exc:
        print(f"  skipping {name}: {exc} (pip install -r benchmarks/requirements.txt)")
        return None
    app = module.build(config, **options)
    lifespan = Lifespan(app)
    await lifespan.startup()

    async def close() -> None:
        await module.close(app)

    notes = description or module.NOTES
    return Contender(name, app, lifespan, notes, close)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Create the tables, run the scenarios, print the tables, drop the tables."""
    conn = await connect(args.database_url)
    if conn is None:
        return {}
    config = DbConfig(args.database_url, pool_size=args.pool_size, max_overflow=0)
    contenders: list[Contender] = []
    out: dict[str, Any] = {}
    try:
        await create_tables(conn)
        print(f"tables world ({WORLD_ROWS} rows) and fortune in schema {SCHEMA}")
        for name in args.frameworks:
            contender = await load(name, config)
            if contender is not None:
                contenders.append(contender)
                print(f"  {name:<16} {contender.notes}")
        scenarios = build_scenarios(conn, args.queries)
        chosen = [scenarios[s] for s in args.only]
        if args.round_trips:
            await count_round_trips(contenders, chosen)
            return {}
        for scenario in chosen:
            await run_scenario(contenders, scenario, args.concurrency, args.samples, args.scale)
        outcome = print_tables(
            f"PostgreSQL, pool {args.pool_size}", chosen, args.concurrency, PEERS
        )
        print("\n" + TARGET)
        for scenario, concurrency, mine, peer, theirs in outcome:
            status = "MET" if mine <= theirs else "NOT MET"
            print(
                f"  {scenario:<14} c={concurrency:<3} nightowl {mine:,.0f} µs vs {peer} "
                f"{theirs:,.0f} µs: {status}"
            )
        out = {
            s.name: {
                "wall_us": {str(c): r for c, r in s.results.items()},
                "cpu_us": {str(c): r for c, r in s.cpu.items()},
            }
            for s in chosen
        }
    finally:
        for contender in contenders:
            try:
                await contender.stop()
            except Exception as exc:  # keep going: the schema must be dropped
                print(f"  {contender.name}: shutdown failed: {exc!r}")
        if args.keep:
            print(f"kept schema {SCHEMA}")
        else:
            await drop_tables(conn)
        await conn.close()
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"PostgreSQL URL ($BENCH_DATABASE_URL, else {DEFAULT_URL})",
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"rows: {SCENARIOS}")
    parser.add_argument(
        "--frameworks",
        default=DEFAULT_CONTENDERS,
        help=f"comma-separated, from {list(CONTENDERS)} (default {DEFAULT_CONTENDERS})",
    )
    parser.add_argument("--concurrency", default="1,16", help="requests in flight (1,16)")
    parser.add_argument("--samples", type=int, default=5, help="samples per figure (5)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply requests per sample (db 500, queries 50, fortunes 500, updates 40)",
    )
    parser.add_argument("--queries", type=int, default=20, help="N of /queries and /updates (20)")
    parser.add_argument("--pool-size", type=int, default=16, help="connections per app (16)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--keep", action="store_true", help="do not drop the schema at the end")
    parser.add_argument(
        "--round-trips",
        action="store_true",
        help="only count the statements each app sends per request (no timing)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    for scenario in args.only:
        if scenario not in SCENARIOS:
            parser.error(f"unknown row {scenario!r}; choose from {SCENARIOS}")
    for name in args.frameworks:
        if name not in CONTENDERS:
            parser.error(f"unknown framework {name!r}; choose from {list(CONTENDERS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    results = run_main(lambda: main_async(args), args.loop)
    if args.json and results:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
