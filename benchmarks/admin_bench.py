"""The admin on a big table, in process: nightowl's admin vs Django's admin vs SQLAdmin.

One PostgreSQL database (``nightowl_admin_bench``, made on the server of ``--url``)
holds ``bench_author`` (1,000 rows) and ``bench_post`` (``--rows``, 1,000,000 by
default, with indexes on ``(created_at, id)``, ``author_id`` and ``published``, and
two trigram indexes for the title search, see :data:`INDEXES`); every admin reads
those same tables. Each admin lists 100 posts a page, with the author, newest
first, searches titles and filters on ``published``:

========== ============================== ======================= ===========================
page       nightowl                       Django                  SQLAdmin (FastAPI)
========== ============================== ======================= ===========================
first      /admin/bench/benchpost/        /admin/admin_django/    /admin/bench-post/list
                                          benchpost/
middle     ?p=<half>                      ?p=<half>               ?page=<half>
search     ?q=needle                      ?q=needle               ?search=needle
filter     ?published=1                   ?published__exact=1     ?published=true
change     /<id>/change/                  /<id>/change/           /edit/<id>
========== ============================== ======================= ===========================

Each framework's own test client sends the requests (in process, no network): nightowl's
``TestClient`` and Starlette's (both over ASGI), Django's ``Client`` (its handler and
middleware, without a server). nightowl and Django are logged in as a superuser;
SQLAdmin has no login. Rounds are interleaved (every round runs each page on each admin,
in a rotating order); the tables give the median and the 95th percentile of the wall
time, and the median CPU time this process spent (the database server's excluded).

    python benchmarks/admin_bench.py                       # 1,000,000 posts, 20 rounds
    python benchmarks/admin_bench.py --rows 100000 --rounds 10 --frameworks nightowl,django
    python benchmarks/admin_bench.py --keep                # keep the database for the next run
    python benchmarks/admin_bench.py --keep --no-trigram   # the search without its indexes
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, text

DATABASE = "nightowl_admin_bench"
PAGES = ("first", "middle", "search", "filter", "change")
#: The test clients to close at the end (they run their app's shutdown).
CLIENTS: list[Any] = []
#: The search's indexes, the same for every admin. A ``LIKE '%word%'`` can only use a
#: trigram index (``pg_trgm``) on the very expression it compares: nightowl's admin and
#: SQLAdmin search with ``title ILIKE ...``, Django's ``icontains`` is
#: ``UPPER(title::text) LIKE UPPER(...)``, so each kind gets its index.
TRIGRAM_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_bench_post_title_trgm "
    "ON bench_post USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_bench_post_title_upper_trgm "
    "ON bench_post USING gin (upper(title::text) gin_trgm_ops)",
)


def _server(url: str) -> str:
    return url.rsplit("/", 1)[0]


def prepare(url: str, rows: int, keep: bool, trigram: bool = True) -> str:
    """The benchmark database with its tables filled (reused when ``--keep`` left it)."""
    admin = create_engine(f"{_server(url)}/test", isolation_level="AUTOCOMMIT")
    bench_url = f"{_server(url)}/{DATABASE}"
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DATABASE}
        )
    reuse = False
    if exists:
        engine = create_engine(bench_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            try:
                found = connection.scalar(text("SELECT count(*) FROM bench_post"))
                reuse = found == rows
            except Exception:
                reuse = False
        engine.dispose()
        if not reuse:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE {DATABASE} WITH (FORCE)"))
    if not reuse:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
        _fill(bench_url, rows)
    admin.dispose()
    _index(bench_url, trigram)
    return bench_url


def _index(url: str, trigram: bool) -> None:
    """The search's trigram indexes made (or dropped, ``--no-trigram``); a database kept
    from a run before the ``(created_at, id)`` index gets it."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text(
                "CREATE INDEX IF NOT EXISTS ix_bench_post_created_at_id "
                "ON bench_post (created_at, id)"
            )
        )
        connection.execute(text("DROP INDEX IF EXISTS ix_bench_post_created_at"))
        if trigram:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            for statement in TRIGRAM_INDEXES:
                connection.execute(text(statement))
        else:
            for name in ("ix_bench_post_title_trgm", "ix_bench_post_title_upper_trgm"):
                connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
        connection.execute(text("ANALYZE bench_post"))
    engine.dispose()


def _fill(url: str, rows: int) -> None:
    from apps.admin_models import BenchAuthor, BenchPost

    from nightowl.db import Model

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    started = time.perf_counter()
    tables = [BenchAuthor.__table__, BenchPost.__table__]
    Model.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA django_side"))
        connection.execute(
            text(
                "INSERT INTO bench_author (id, name, email) SELECT i, 'author ' || i, "
                "'author' || i || '@example.com' FROM generate_series(1, 1000) i"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bench_post (id, title, body, published, created_at, author_id) "
                "SELECT i, 'post number ' || i || CASE WHEN i % 1000 = 0 THEN ' needle' "
                "ELSE '' END, 'the body of post ' || i, i % 3 = 0, "
                "timestamp '2020-01-01' + i * interval '1 minute', 1 + i % 1000 "
                "FROM generate_series(1, :rows) i"
            ),
            {"rows": rows},
        )
        for table in ("bench_author", "bench_post"):
            connection.execute(
                text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"filled {rows:,} posts in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def contenders(url: str, rows: int, names: list[str]) -> dict[str, Callable[[str], Any]]:
    """name -> a function getting one page (``first``, ``middle``...) as a response."""
    half = rows // 100 // 2
    post = rows // 2 + 7
    out: dict[str, Callable[[str], Any]] = {}
    if "nightowl" in names:
        from apps import admin_nightowl

        client = admin_nightowl.client(url)
        CLIENTS.append(client)
        base = "/admin/bench/benchpost/"
        paths = {
            "first": base,
            "middle": f"{base}?p={half}",
            "search": f"{base}?q=needle",
            "filter": f"{base}?published=1",
            "change": f"{base}{post}/change/",
        }
        out["nightowl"] = lambda page, c=client, p=paths: c.get(p[page])
    if "django" in names:
        try:
            from apps.admin_django import setup
        except ImportError:
            print("django: not installed, skipped", file=sys.stderr)
        else:
            parts = urlsplit(url)
            client = setup.client(
                DATABASE,
                parts.username or "postgres",
                parts.hostname or "127.0.0.1",
                parts.port or 5432,
            )
            base = "/admin/admin_django/benchpost/"
            paths = {
                "first": base,
                "middle": f"{base}?p={half}",
                "search": f"{base}?q=needle",
                "filter": f"{base}?published__exact=1",
                "change": f"{base}{post}/change/",
            }
            out["django"] = lambda page, c=client, p=paths: c.get(p[page])
    if "sqladmin" in names:
        try:
            from apps import admin_sqladmin
        except ImportError:
            print("sqladmin: not installed, skipped", file=sys.stderr)
        else:
            client = admin_sqladmin.client(url)
            CLIENTS.append(client)
            base = "/admin/bench-post"
            paths = {
                "first": f"{base}/list",
                "middle": f"{base}/list?page={half}",
                "search": f"{base}/list?search=needle",
                "filter": f"{base}/list?published=true",
                "change": f"{base}/edit/{post}",
            }
            out["sqladmin"] = lambda page, c=client, p=paths: c.get(p[page])
    return out


def check(get: Callable[[str], Any], name: str) -> dict[str, float]:
    """Every page answers 200 and shows what it should; the wall time (ms) of each
    page's first request, caches cold (nightowl's anchors, plans and table size)."""
    cold: dict[str, float] = {}
    for page in PAGES:
        started = time.perf_counter()
        response = get(page)
        cold[page] = (time.perf_counter() - started) * 1000
        status = getattr(response, "status_code", None)
        body = response.content.decode() if hasattr(response, "content") else ""
        if status != 200:
            raise SystemExit(f"{name} {page}: status {status}")
        if page == "search" and "needle" not in body:
            raise SystemExit(f"{name} search: no result shown")
    return cold


def measure(
    gets: dict[str, Callable[[str], Any]], rounds: int, pages: list[str]
) -> tuple[dict[tuple[str, str], list[float]], dict[tuple[str, str], list[float]]]:
    """Wall time and this process's CPU time (ms) of every request, by (admin, page)."""
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    names = list(gets)
    for number in range(rounds):
        order = names[number % len(names) :] + names[: number % len(names)]
        for page in pages:
            for name in order:
                started, started_cpu = time.perf_counter(), time.process_time()
                gets[name](page)
                times.setdefault((name, page), []).append((time.perf_counter() - started) * 1000)
                cpu.setdefault((name, page), []).append((time.process_time() - started_cpu) * 1000)
    return times, cpu


def report(
    times: dict[tuple[str, str], list[float]], names: list[str], rows: int, pages: list[str]
) -> None:
    def p95(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    print(f"\n### {rows:,} posts: ms per page, median / p95 (lower is better)\n")
    print("| page | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for page in pages:
        cells = []
        for name in names:
            values = times[name, page]
            cells.append(f"{statistics.median(values):.1f} / {p95(values):.1f}")
        print(f"| {page} | " + " | ".join(cells) + " |")
    others = [n for n in names if n != "nightowl"]
    if "nightowl" in names and others:
        print("\nnightowl's speed relative to each (median; >1 = nightowl faster)\n")
        print("| page | " + " | ".join(f"vs {n}" for n in others) + " |")
        print("|---|" + "---|" * len(others))
        for page in pages:
            ours = statistics.median(times["nightowl", page])
            ratios = [statistics.median(times[n, page]) / ours for n in others]
            print(f"| {page} | " + " | ".join(f"{r:.1f}x" for r in ratios) + " |")


def report_cpu(cpu: dict[tuple[str, str], list[float]], names: list[str], pages: list[str]) -> None:
    """The median CPU time of this process per page: the admin, its framework, the
    driver and the test client, without the database server's work."""
    print("\nCPU ms in this process per page, median (the database server's work excluded)\n")
    print("| page | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for page in pages:
        cells = [f"{statistics.median(cpu[name, page]):.1f}" for name in names]
        print(f"| {page} | " + " | ".join(cells) + " |")


def report_cold(cold: dict[str, dict[str, float]], names: list[str], pages: list[str]) -> None:
    """The first request of each page in this process (before the measured rounds)."""
    print(
        "\nms of the first request of each page in this process (caches cold), not in the above\n"
    )
    print("| page | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for page in pages:
        print(f"| {page} | " + " | ".join(f"{cold[name][page]:.1f}" for name in names) + " |")


def main() -> None:
    global DATABASE
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--frameworks", default="nightowl,django,sqladmin")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--pages",
        default=",".join(PAGES),
        help=f"the pages to measure, comma-separated (default: {','.join(PAGES)})",
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help=f"the benchmark database's name (default: {DATABASE})",
    )
    parser.add_argument(
        "--no-trigram", action="store_true", help="search without the trigram indexes"
    )
    options = parser.parse_args()
    names = [n.strip() for n in options.frameworks.split(",") if n.strip()]
    pages = [p.strip() for p in options.pages.split(",") if p.strip()]
    unknown = sorted(set(pages) - set(PAGES))
    if unknown:
        parser.error(f"--pages: unknown page(s) {', '.join(unknown)}; known: {', '.join(PAGES)}")
    DATABASE = options.database
    url = prepare(options.url, options.rows, options.keep, trigram=not options.no_trigram)
    gets = contenders(url, options.rows, names)
    cold = {name: check(get, name) for name, get in gets.items()}
    try:
        times, cpu = measure(gets, options.rounds, pages)
        report(times, list(gets), options.rows, pages)
        report_cpu(cpu, list(gets), pages)
        report_cold(cold, list(gets), pages)
    finally:
        for client in CLIENTS:
            client.__exit__(None, None, None)
        if not options.keep:
            admin = create_engine(f"{_server(options.url)}/test", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            admin.dispose()


if __name__ == "__main__":
    main()
