"""Profile nightowl's request hot path, one scenario at a time, in process.

Runs many requests of one scenario (the same pools as ``asgi_bench.py``) through the
nightowl app under cProfile (default) or pyinstrument, and prints the top costs.

    python benchmarks/profile_nightowl.py                      # every scenario, cProfile
    python benchmarks/profile_nightowl.py --only query --tool pyinstrument
    python benchmarks/profile_nightowl.py --only body --sync --requests 5000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from asgi_bench import SCENARIOS, Receiver, _discard, _make_scope, build_pool, load


async def _drive(app: Any, batch: list[tuple[dict[str, Any], Receiver]]) -> None:
    for scope, receive in batch:
        await app(scope, receive, _discard)


async def profile(scenario: str, args: argparse.Namespace) -> str:
    """The profile report for ``args.requests`` requests of ``scenario``."""
    contender = await load("nightowl", args.sync)
    pool = build_pool(scenario)
    state = contender.lifespan.state

    def batch() -> list[tuple[dict[str, Any], Receiver]]:
        return [
            (_make_scope(pool[i % len(pool)], state), Receiver(pool[i % len(pool)].body))
            for i in range(args.requests)
        ]

    await _drive(contender.app, batch()[:500])  # warm-up
    requests = batch()
    if args.tool == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        await _drive(contender.app, requests)
        profiler.stop()
        text: str = profiler.output_text(unicode=True, color=False, show_all=False)
    else:
        prof = cProfile.Profile()
        prof.enable()
        await _drive(contender.app, requests)
        prof.disable()
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats(args.sort)
        stats.print_stats(args.top)
        text = out.getvalue()
    await contender.lifespan.shutdown()
    return text


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--sync", action="store_true", help="profile the plain def handler app")
    parser.add_argument("--tool", choices=("cprofile", "pyinstrument"), default="cprofile")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime)")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print (25)")
    args = parser.parse_args(argv)
    for scenario in [s.strip() for s in args.only.split(",") if s.strip()]:
        if scenario not in SCENARIOS:
            parser.error(f"unknown scenario {scenario!r}; choose from {SCENARIOS}")
        print(f"===== {scenario} ({'def' if args.sync else 'async def'}) =====")
        print(asyncio.run(profile(scenario, args)))


if __name__ == "__main__":
    main()
