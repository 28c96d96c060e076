"""An authenticated request, in process: nightowl vs FastAPI + fastapi-users vs Django.

``GET /me`` answers the logged-in user's name, behind each framework's guard
(``login_required``, ``current_user(active=True)``, ``@login_required``), with three
credentials:

- **session cookie -> user**, the session kept in PostgreSQL by all three (nightowl's
  database session backend, fastapi-users' database strategy, Django's default
  ``django.contrib.sessions``);
- **bearer JWT -> user** (nightowl, fastapi-users);
- **API key -> user** (nightowl; the peers have none built in).

Each framework gets a scratch PostgreSQL database of its own (created and dropped here)
and obtains its credentials as a client would (login form, token endpoint). Every
answer is checked (200, the right user; 401/302 without the credential) before timing.
Like ``db_bench.py``: prebuilt scopes, interleaved samples, medians.

    python benchmarks/auth_bench.py                     # about a minute on 2 cores
    python benchmarks/auth_bench.py --concurrency 1 --samples 9
    python benchmarks/auth_bench.py --profile session    # cProfile of one framework's requests
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from te_harness import (
    Contender,
    Lifespan,
    Scenario,
    Scope,
    call,
    print_tables,
    run_main,
    run_scenario,
)

#: name -> module under apps
FRAMEWORKS = {
    "nightowl": "auth_nightowl",
    "fastapi-users": "auth_fastapi_users",
    "django": "auth_django",
}
PATHS = {"nightowl": "/me", "fastapi-users": "/me", "django": "/me"}
KINDS = {"session": "session cookie", "jwt": "bearer JWT", "apikey": "API key"}
PEERS = ["fastapi-users", "django"]


@dataclass
class Credentialed(Contender):
    """A contender whose every request carries one credential's headers."""

    extra_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def scope(self, path: str, query: bytes = b"") -> Scope:
        """The scope, with the credential."""
        scope = super().scope(path, query)
        scope["headers"] = [*scope["headers"], *self.extra_headers]
        return scope


@contextmanager
def scratch_databases(url: str, names: list[str]) -> Iterator[dict[str, str] | None]:
    """A PostgreSQL database per framework, dropped afterwards; None without a server."""
    try:
        import psycopg
    except ImportError:
        print("  skipping: psycopg is not installed")
        yield None
        return
    try:
        admin = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    except psycopg.OperationalError as exc:
        print(f"  skipping: PostgreSQL is not reachable at {url}: {exc}")
        yield None
        return
    base, _, _ = url.rpartition("/")
    made: dict[str, str] = {}
    try:
        for name in names:
            database = f"authbench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            admin.execute(f"CREATE DATABASE {database}")
            made[name] = f"{base}/{database}"
        yield made
    finally:
        for database_url in made.values():
            admin.execute(f"DROP DATABASE IF EXISTS {database_url.rpartition('/')[2]} WITH (FORCE)")
        admin.close()


async def load(name: str, url: str, pool_size: int) -> tuple[Any, Any, Lifespan] | None:
    """Import, build and start a framework's app; None when its packages are missing."""
    try:
        module = importlib.import_module(f"apps.{FRAMEWORKS[name]}")
    except ImportError as exc:
        print(f"  skipping {name}: {exc} (pip install -r benchmarks/requirements.txt)")
        return None
    app = module.build(url, pool_size)
    lifespan = Lifespan(app)
    if getattr(module, "LIFESPAN", True):
        await lifespan.startup()
    return module, app, lifespan


async def check(contender: Contender) -> None:
    """With the credential: 200 and ``ada``; without it: refused."""
    for _ in range(2):
        reply = await call(contender, "/me")
        assert reply.status == 200, f"status {reply.status}: {reply.body[:300]!r}"
        assert reply.json() == {"username": "ada"}, reply.json()
    anonymous = Contender(contender.name, contender.app, contender.lifespan)
    refused = await call(anonymous, "/me")
    assert refused.status in (302, 401, 403), f"anonymous request answered {refused.status}"


async def profile(args: argparse.Namespace, urls: dict[str, str]) -> None:
    """cProfile of ``args.requests`` requests, one at a time, of the first framework with
    the credential ``args.profile``: the top functions by ``args.sort``."""
    import cProfile
    import pstats
    import time

    name = args.frameworks[0]
    loaded = await load(name, urls[name], args.pool_size)
    if loaded is None:
        return
    module, app, lifespan = loaded
    try:
        headers = (await module.credentials(app)).get(args.profile)
        if headers is None:
            print(f"  {name} has no {KINDS[args.profile]} credential")
            return
        contender = Credentialed(name, app, lifespan, extra_headers=headers)
        await check(contender)
        for _ in range(200):  # warm: caches, pools, compiled statements
            await call(contender, "/me")
        started = time.process_time()
        for _ in range(args.requests):
            await call(contender, "/me")
        spent = (time.process_time() - started) / args.requests * 1e6
        print(f"\n{name}, {KINDS[args.profile]}: {spent:,.0f} µs of CPU per request\n")
        profiler = cProfile.Profile(time.process_time)  # CPU: time spent awaiting is left out
        profiler.enable()
        for _ in range(args.requests):
            await call(contender, "/me")
        profiler.disable()
        if args.dump:
            profiler.dump_stats(args.dump)
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    finally:
        if getattr(module, "LIFESPAN", True):
            await lifespan.shutdown()
        await module.close(app)


async def main_async(args: argparse.Namespace) -> None:
    """Build the apps, then one table for the three kinds of credential."""
    with scratch_databases(args.database_url, args.frameworks) as urls:
        if urls is None:
            return
        if args.profile:
            await profile(args, urls)
            return
        started: list[tuple[str, Any, Any, Lifespan]] = []
        try:
            headers: dict[str, dict[str, list[tuple[bytes, bytes]]]] = {}
            for name in args.frameworks:
                loaded = await load(name, urls[name], args.pool_size)
                if loaded is None:
                    continue
                module, app, lifespan = loaded
                started.append((name, module, app, lifespan))
                headers[name] = await module.credentials(app)
                print(f"  {name:<14} {module.NOTES}")
            scenarios = []
            for kind, title in KINDS.items():
                contenders: list[Contender] = [
                    Credentialed(name, app, lifespan, extra_headers=headers[name][kind])
                    for name, _, app, lifespan in started
                    if kind in headers[name]
                ]
                if not contenders:
                    continue
                scenario = Scenario(title, "/me", requests=600, check=check)
                await run_scenario(contenders, scenario, args.concurrency, args.samples, args.scale)
                scenarios.append(scenario)
            outcome = print_tables(
                f"Authenticated GET /me, PostgreSQL, pool {args.pool_size}",
                scenarios,
                args.concurrency,
                PEERS,
            )
            _print_targets(scenarios, args.concurrency)
            del outcome
        finally:
            for name, module, app, lifespan in started:
                try:
                    if getattr(module, "LIFESPAN", True):
                        await lifespan.shutdown()
                    await module.close(app)
                except Exception as exc:  # keep going: the databases must be dropped
                    print(f"  {name}: shutdown failed: {exc!r}")


def _print_targets(scenarios: list[Scenario], concurrencies: list[int]) -> None:
    """nightowl's speed-up over each peer (their time / nightowl's), per row."""
    print("\nnightowl speed-up (peer µs / nightowl µs; targets: 2x fastapi-users, 5x Django)\n")
    print("| scenario | in flight | vs fastapi-users | vs django |")
    print("|---|---|---|---|")
    for scenario in scenarios:
        for concurrency in concurrencies:
            result = scenario.results.get(concurrency, {})
            if "nightowl" not in result:
                continue
            cells = [
                f"{result[peer] / result['nightowl']:.1f}x" if peer in result else "-"
                for peer in PEERS
            ]
            print(f"| {scenario.name} | {concurrency} | " + " | ".join(cells) + " |")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ",".join(FRAMEWORKS)
    parser.add_argument("--frameworks", default=default, help=f"comma-separated ({default})")
    parser.add_argument("--samples", type=int, default=7, help="samples per figure (7)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply requests (600)")
    parser.add_argument("--concurrency", default="1,16", help="requests in flight (1,16)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL database to connect to; scratch databases are made beside it",
    )
    parser.add_argument("--pool-size", type=int, default=16, help="connections per app (16)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--profile",
        choices=tuple(KINDS),
        help="instead of timing: cProfile the first of --frameworks with this credential",
    )
    parser.add_argument("--requests", type=int, default=2000, help="profiled requests (2000)")
    parser.add_argument("--sort", default="tottime", help="profile order (tottime)")
    parser.add_argument("--top", type=int, default=40, help="profile lines (40)")
    parser.add_argument("--dump", help="also write the profile to this file (for pstats)")
    args = parser.parse_args(argv)
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for name in args.frameworks:
        if name not in FRAMEWORKS:
            parser.error(f"unknown framework {name!r}; choose from {list(FRAMEWORKS)}")
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    run_main(lambda: main_async(args), args.loop)


if __name__ == "__main__":
    main()
