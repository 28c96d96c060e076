"""Broadcast: WebSocket clients spread over 2 worker processes sharing one Redis, one
publisher; messages delivered per second and delivery latency, nightowl against its peers.

Each framework's app (``apps/broadcast_*.py``) serves ``/ws`` (subscribe to the channel
``bench``, send ``{"type":"ready"}`` once subscribed, then forward every message as a text
frame) and ``POST /publish`` (publish the JSON body on ``bench``). For each framework:

1. a Redis of the benchmark's own (``redis-server`` on a free port, no persistence) and
   two uvicorn processes (``--ws websockets-sansio``, uvloop, httptools), on two ports;
2. ``--clients`` WebSocket clients, half on each worker, in ``--client-procs`` processes;
   every client waits for ``ready``;
3. one publisher POSTs ``--messages`` messages to the first worker (8 requests in flight,
   so that it is not what limits the rate), each carrying the time it was sent;
4. every client records when each message arrives. Delivered/s is all deliveries over the
   time from the first publish to the last delivery; latency is arrival minus send time.

Run: ``python benchmarks/broadcast_bench.py [--clients 1000] [--messages 100]``
(``pip install -e . -r benchmarks/requirements.txt``; ``redis-server`` on the PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMEWORKS = {
    "nightowl": "broadcast_nightowl:app",
    "starlette+broadcaster": "broadcast_starlette:app",
    "django-channels": "broadcast_django:app",
    "litestar": "broadcast_litestar:app",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextlib.contextmanager
def process(command: list[str], **options: object) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, **options)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("broadcast_bench.py needs redis-server (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", directory]
        with process(command, stdout=subprocess.DEVNULL):
            wait_port(port)
            yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def workers(target: str, redis_url: str) -> Iterator[list[int]]:
    ports = [free_port(), free_port()]
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(HERE / "apps")}
    with contextlib.ExitStack() as stack:
        for port in ports:
            command = [sys.executable, "-m", "uvicorn", target, "--port", str(port)]
            command += ["--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools"]
            command += ["--log-level", "warning", "--no-access-log"]
            stack.enter_context(process(command, env=env, cwd=HERE / "apps"))
        for port in ports:
            wait_port(port)
        yield ports


# -- the clients (run as subprocesses: python broadcast_bench.py --client ...) ---------------
async def client_main(urls: list[str], count: int, messages: int, timeout: float) -> None:
    from websockets.asyncio.client import connect

    arrivals: list[tuple[float, float]] = []  # (arrival, latency)
    ready = 0

    async def one(url: str) -> None:
        nonlocal ready
        async with connect(url, open_timeout=60, max_queue=None, ping_interval=None) as ws:
            while "ready" not in str(await ws.recv()):
                pass
            ready += 1
            if ready == count:
                print("READY", flush=True)
            got = 0
            while got < messages:
                text = await ws.recv()
                now = time.time()
                arrivals.append((now, now - json.loads(text)["t"]))
                got += 1

    tasks = []
    for index in range(count):
        tasks.append(asyncio.ensure_future(one(urls[index % len(urls)])))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # no SYN flood
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    errors = sum(1 for task in done if task.exception() is not None)
    print(json.dumps({"arrivals": arrivals, "errors": errors, "unfinished": len(pending)}))


#: Publish requests in flight at once: the publisher must not be what limits the rate.
PUBLISH_CONCURRENCY = 8


async def publish_all(port: int, messages: int, concurrency: int) -> None:
    import httpx

    numbers = iter(range(messages))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as publisher:

        async def lane() -> None:
            for n in numbers:
                body = json.dumps({"t": time.time(), "n": n, "text": "x" * 64})
                response = await publisher.post("/publish", content=body)
                response.raise_for_status()

        await asyncio.gather(*(lane() for _ in range(concurrency)))


def run_clients(ports: list[int], clients: int, procs: int, messages: int) -> dict[str, object]:
    urls = ",".join(f"ws://127.0.0.1:{port}/ws" for port in ports)
    share = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    with contextlib.ExitStack() as stack:
        children = [
            stack.enter_context(
                process(
                    [sys.executable, __file__, "--client", urls, str(n), str(messages)],
                    stdout=subprocess.PIPE,
                )
            )
            for n in share
        ]
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if b"READY" not in line:
                raise RuntimeError(f"a client process did not get ready: {line!r}")
        time.sleep(0.5)
        started = time.time()
        asyncio.run(publish_all(ports[0], messages, PUBLISH_CONCURRENCY))
        published = time.time()
        results = []
        for child in children:
            assert child.stdout is not None
            results.append(json.loads(child.stdout.read()))
    arrivals = [a for result in results for a in result["arrivals"]]
    latencies = sorted(latency for _, latency in arrivals)
    last = max((when for when, _ in arrivals), default=published)
    delivered = len(arrivals)
    return {
        "delivered": delivered,
        "expected": clients * messages,
        "per_second": delivered / (last - started) if delivered else 0.0,
        "publish_per_second": messages / (published - started),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "errors": sum(r["errors"] + r["unfinished"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--only", nargs="*", choices=sorted(FRAMEWORKS), default=None)
    args = parser.parse_args()
    rows = {}
    for name, target in FRAMEWORKS.items():
        if args.only and name not in args.only:
            continue
        with redis_server() as redis_url, workers(target, redis_url) as ports:
            rows[name] = run_clients(ports, args.clients, args.client_procs, args.messages)
        row = rows[name]
        print(
            f"{name:24} delivered {row['delivered']}/{row['expected']}"
            f"  {row['per_second']:>9,.0f} msg/s  p50 {row['p50_ms']:7.1f} ms"
            f"  p99 {row['p99_ms']:7.1f} ms  (publisher {row['publish_per_second']:,.0f}/s,"
            f" errors {row['errors']})",
            flush=True,
        )
    if "nightowl" in rows:
        base = rows["nightowl"]
        print("\nnightowl against each peer: delivered msg/s ratio, p99 ratio (lower is better)")
        for name, row in rows.items():
            if name == "nightowl" or not row["per_second"]:
                continue
            ratio = base["per_second"] / row["per_second"]  # type: ignore[operator]
            p99 = base["p99_ms"] / row["p99_ms"]  # type: ignore[operator]
            print(f"  vs {name:24} {ratio:5.2f}x msg/s   p99 x{p99:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        urls, count, messages = sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
        asyncio.run(client_main(urls, count, messages, timeout=120))
    else:
        main()
