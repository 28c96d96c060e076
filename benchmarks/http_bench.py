"""HTTP benchmark: each app under one uvicorn worker (httptools + uvloop), loaded with wrk.

For every framework: start ``uvicorn apps.<module>:app_async`` on 127.0.0.1 and a free
port, wait until it answers, warm it up, run ``wrk -t1 -c64 -d10s`` against the hello
route, stop the server. Rounds are interleaved across frameworks; the median req/s is
reported with nightowl's ratio to each peer. Every server is killed on the way out.

    python benchmarks/http_bench.py
    python benchmarks/http_bench.py --frameworks nightowl,bare --duration 5 --rounds 3

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import FRAMEWORKS  # noqa: E402

_servers: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a server we started: SIGTERM to its process group, then SIGKILL."""
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
    if server in _servers:
        _servers.remove(server)


@atexit.register
def _stop_all() -> None:
    for server in list(_servers):
        stop(server)


def start_server(name: str, port: int, sync: bool) -> subprocess.Popen[bytes]:
    """Start one uvicorn worker serving ``name``'s app on 127.0.0.1:``port``."""
    target = f"apps.{FRAMEWORKS[name]}:{'app_sync' if sync else 'app_async'}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    server = subprocess.Popen(command, start_new_session=True)
    _servers.append(server)
    return server


def wait_ready(server: subprocess.Popen[bytes], port: int, path: str, timeout: float = 20) -> None:
    """Wait until the server answers ``GET path`` with a 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            conn.close()
        except OSError:
            time.sleep(0.1)
            continue
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {body[:200]!r}")
        return
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s")


def run_wrk(
    port: int, path: str, threads: int, connections: int, duration: int
) -> dict[str, float]:
    """Run wrk once; return ``req_s``, ``latency_ms`` (average) and ``errors``."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        f"http://127.0.0.1:{port}{path}",
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=True
    ).stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s)", output)
    latency_ms = 0.0
    if latency:
        scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[latency.group(2)]
        latency_ms = float(latency.group(1)) * scale
    errors = 0.0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non2xx:
        errors += float(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(float(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return {"req_s": float(rate.group(1)), "latency_ms": latency_ms, "errors": errors}


def bench_one(name: str, args: argparse.Namespace) -> dict[str, float]:
    """Start ``name``, warm it up, measure it with wrk, stop it."""
    port = free_port()
    server = start_server(name, port, args.sync)
    try:
        wait_ready(server, port, args.path)
        if args.warmup:
            run_wrk(port, args.path, args.threads, args.connections, args.warmup)
        return run_wrk(port, args.path, args.threads, args.connections, args.duration)
    finally:
        stop(server)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--frameworks", default=",".join(FRAMEWORKS), help="frameworks, comma-separated"
    )
    parser.add_argument("--path", default="/", help="the route to load (default: /, hello)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per run (2)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (1)")
    parser.add_argument("--sync", action="store_true", help="serve the plain def handler apps")
    args = parser.parse_args(argv)
    args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for name in args.frameworks:
        if name not in FRAMEWORKS:
            parser.error(f"unknown framework {name!r}; choose from {list(FRAMEWORKS)}")
    return args


def available(name: str) -> bool:
    """True when ``apps.<module>`` imports (its framework is installed)."""
    check = subprocess.run(
        [sys.executable, "-c", f"import apps.{FRAMEWORKS[name]}"],
        cwd=HERE,
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        print(f"skipping {name}: {last} (pip install -r benchmarks/requirements.txt)")
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)")
    names = [name for name in args.frameworks if available(name)]
    mode = "def" if args.sync else "async def"
    print(
        f"uvicorn (1 worker, httptools, uvloop), {mode} handlers; "
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s GET {args.path}; "
        f"{args.rounds} round(s)"
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    started = time.perf_counter()
    try:
        for round_index in range(args.rounds):
            shift = round_index % max(1, len(names))
            for name in names[shift:] + names[:shift]:
                result = bench_one(name, args)
                runs[name].append(result)
                print(
                    f"  {name:<11} {result['req_s']:>10,.0f} req/s  "
                    f"avg latency {result['latency_ms']:.2f} ms  errors {result['errors']:.0f}",
                    flush=True,
                )
    finally:
        _stop_all()
    rates = {name: statistics.median(r["req_s"] for r in results) for name, results in runs.items()}
    print("\n| framework | req/s | nightowl / framework |")
    print("|---|---|---|")
    mine = rates.get("nightowl")
    for name, rate in sorted(rates.items(), key=lambda item: -item[1]):
        ratio = f"{mine / rate:.2f}x" if mine else "-"
        print(f"| {name} | {rate:,.0f} | {ratio} |")
    if mine and "bare" in rates:
        share = mine / rates["bare"]
        verdict = "MET" if share >= 0.8 else "NOT MET"
        print(f"\nTarget: HTTP at least 0.8x bare ASGI: nightowl is {share:.2f}x bare: {verdict}")
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
