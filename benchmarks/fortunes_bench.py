"""TechEmpower "fortunes" HTML benchmark, in process: nightowl vs FastAPI vs Django.

The page lists the 12 fortunes plus one added at request time, sorted by message, through
``apps/templates/fortunes.html`` with autoescaping (one of the fortunes is a
``<script>`` tag, another is Japanese). Three tables:

1. in-memory rows, whole request through each framework's ASGI app: nightowl
   (``render()``, Jinja2), FastAPI (``Jinja2Templates``), Django (a minimal Django ASGI
   app: ``settings.configure(...)``, no middleware, ``async def`` view, ``render()``);
2. the template engines alone (no request): Jinja2 vs Django templates;
3. on PostgreSQL (rows from the ``fortune`` table through the ORM session): nightowl's
   database battery vs FastAPI + SQLAlchemy (asyncpg), the apps of ``db_bench.py``.

Every page is parsed and checked (rows, order, escaping, UTF-8, content type) before
timing. Missing packages or no PostgreSQL server: that part is skipped with a note.

    python benchmarks/fortunes_bench.py                    # everything, ~1 min on 2 cores
    python benchmarks/fortunes_bench.py --no-db --samples 9
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from operator import attrgetter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps.techempower import ADDITIONAL_FORTUNE, FORTUNE_ROWS, TEMPLATES_DIR, DbConfig, Fortune
from te_harness import (
    Contender,
    Lifespan,
    Reply,
    Scenario,
    call,
    check_fortunes_html,
    print_tables,
    ratio_text,
    run_main,
    run_scenario,
)

#: name -> (module under apps, build keyword arguments, description)
MEMORY_CONTENDERS: dict[str, tuple[str, dict[str, Any], str]] = {
    "nightowl": ("fortunes_nightowl", {}, "App(templates=..., sessions=False)"),
    "fastapi": ("fortunes_fastapi", {}, ""),
    "django": ("fortunes_django", {}, ""),
    "nightowl-sessions": (
        "fortunes_nightowl",
        {"sessions": True},
        "App(templates=..., secret_key=...): the default cookie sessions + CSRF middleware",
    ),
}
DB_CONTENDERS: dict[str, tuple[str, dict[str, Any], str]] = {
    "nightowl": ("db_nightowl", {}, "async def + AsyncSession, render()"),
    "fastapi": ("db_fastapi", {}, "async def + Depends() session, Jinja2Templates"),
}
PEERS = ["fastapi", "django"]
_by_message = attrgetter("message")


async def load(
    name: str, module_name: str, options: dict[str, Any], notes: str
) -> Contender | None:
    """Build an app (``apps.<module_name>.build(**options)``) and start it; None when missing."""
    try:
        module = importlib.import_module(f"apps.{module_name}")
    except ImportError as exc:
        print(f"  skipping {name}: {exc} (pip install -r benchmarks/requirements.txt)")
        return None
    app = module.build(**options)
    lifespan = Lifespan(app)
    if getattr(module, "LIFESPAN", True):
        await lifespan.startup()

    async def close() -> None:
        await module.close(app)

    return Contender(name, app, lifespan, notes or module.NOTES, close)


async def check_page(contender: Contender) -> None:
    """Two requests, both full TechEmpower fortunes pages."""
    for _ in range(2):
        check_fortunes_html(await call(contender, "/fortunes"))


async def run_memory(args: argparse.Namespace) -> None:
    """Table 1: in-memory rows through each framework."""
    print("\n== in-memory rows ==")
    contenders: list[Contender] = []
    for name in args.frameworks:
        module_name, options, notes = MEMORY_CONTENDERS[name]
        contender = await load(name, module_name, options, notes)
        if contender is not None:
            contenders.append(contender)
            print(f"  {name:<18} {contender.notes}")
    scenario = Scenario("fortunes (memory)", "/fortunes", requests=2000, check=check_page)
    try:
        await run_scenario(contenders, scenario, args.concurrency, args.samples, args.scale)
    finally:
        for contender in contenders:
            await contender.stop()
    print_tables("Fortunes, in-memory rows", [scenario], args.concurrency, PEERS)


def _render_functions() -> dict[str, Callable[[list[Fortune]], str]]:
    """The template engines alone: Jinja2 (autoescape) and Django templates."""
    functions: dict[str, Callable[[list[Fortune]], str]] = {}
    try:
        import jinja2
    except ImportError:
        print("  skipping jinja2: not installed")
    else:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=jinja2.select_autoescape(),
        )
        template = env.get_template("fortunes.html")
        functions["jinja2"] = lambda rows: template.render(fortunes=rows)
    try:
        module = importlib.import_module("apps.fortunes_django")
    except ImportError as exc:
        print(f"  skipping django templates: {exc}")
    else:
        functions["django"] = module.render_only()
    return functions


def _render_once(render: Callable[[list[Fortune]], str], count: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(count):
        rows = list(FORTUNE_ROWS)
        rows.append(Fortune(0, ADDITIONAL_FORTUNE))
        rows.sort(key=_by_message)
        render(rows)
    return (time.perf_counter() - start) / count


def run_render_only(args: argparse.Namespace) -> None:
    """Table 2: each template engine alone, rows built and sorted per call."""
    print("\n== template engines alone ==")
    functions = _render_functions()
    for name, render in functions.items():
        rows = sorted([*FORTUNE_ROWS, Fortune(0, ADDITIONAL_FORTUNE)], key=_by_message)
        html = render(rows).encode()
        try:
            check_fortunes_html(Reply(200, {"content-type": "text/html; charset=utf-8"}, html))
        except AssertionError as exc:
            raise SystemExit(f"FAIL {name} render: {exc}") from None
    count = max(100, int(4000 * args.scale))
    names = list(functions)
    timings: dict[str, list[float]] = {n: [] for n in names}
    for name in names:
        _render_once(functions[name], count // 10)
    for sample in range(args.samples):
        shift = sample % len(names)
        for name in names[shift:] + names[:shift]:
            timings[name].append(_render_once(functions[name], count))
    medians = {n: statistics.median(v) * 1e6 for n, v in timings.items()}
    print("\n### Template engines alone (µs/render, median; lower is better)\n")
    print("| engine | µs/render |")
    print("|---|---|")
    for name, us in medians.items():
        print(f"| {name} | {us:.1f} |")
    if len(medians) == 2:
        print(
            f"\nJinja2 is {ratio_text(medians['jinja2'], medians['django'])} than Django templates"
        )


async def run_db(args: argparse.Namespace) -> None:
    """Table 3: rows from PostgreSQL through each app's ORM session."""
    print("\n== PostgreSQL rows ==")
    from apps.techempower import SCHEMA
    from db_bench import connect, create_tables, drop_tables

    conn = await connect(args.database_url)
    if conn is None:
        return
    config = DbConfig(args.database_url, pool_size=args.pool_size, max_overflow=0)
    contenders: list[Contender] = []
    scenario = Scenario("fortunes (PostgreSQL)", "/fortunes", requests=600, check=check_page)
    try:
        await create_tables(conn)
        print(f"  tables in schema {SCHEMA}")
        for name in [n for n in args.frameworks if n in DB_CONTENDERS]:
            module_name, options, notes = DB_CONTENDERS[name]
            contender = await load(name, module_name, {"config": config, **options}, notes)
            if contender is not None:
                contenders.append(contender)
                print(f"  {name:<18} {contender.notes}")
        await run_scenario(contenders, scenario, args.db_concurrency, args.samples, args.scale)
    finally:
        for contender in contenders:
            try:
                await contender.stop()
            except Exception as exc:  # keep going: the schema must be dropped
                print(f"  {contender.name}: shutdown failed: {exc!r}")
        await drop_tables(conn)
        await conn.close()
    print_tables(
        f"Fortunes, PostgreSQL, pool {args.pool_size}", [scenario], args.db_concurrency, PEERS
    )


async def main_async(args: argparse.Namespace) -> None:
    """The three parts, as selected."""
    if not args.no_memory:
        await run_memory(args)
        run_render_only(args)
    if not args.no_db:
        await run_db(args)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "nightowl,fastapi,django,nightowl-sessions"
    parser.add_argument("--frameworks", default=default, help=f"comma-separated ({default})")
    parser.add_argument("--samples", type=int, default=7, help="samples per figure (7)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply requests per sample (2000 / 600)"
    )
    parser.add_argument("--concurrency", default="1", help="in flight, in-memory table (1)")
    parser.add_argument("--db-concurrency", default="1,16", help="in flight, PostgreSQL (1,16)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--pool-size", type=int, default=16, help="connections per app (16)")
    parser.add_argument("--no-memory", action="store_true", help="skip tables 1 and 2")
    parser.add_argument("--no-db", action="store_true", help="skip the PostgreSQL table")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for name in args.frameworks:
        if name not in MEMORY_CONTENDERS:
            parser.error(f"unknown framework {name!r}; choose from {list(MEMORY_CONTENDERS)}")
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.db_concurrency = [int(c) for c in args.db_concurrency.split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    run_main(lambda: main_async(args), args.loop)


if __name__ == "__main__":
    main()
