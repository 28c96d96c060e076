"""A soak run: an example app under ``nightowl serve --workers 2`` and mixed traffic.

Serves an app with JSON routes, database reads and writes (PostgreSQL when it answers on
127.0.0.1:5432, else SQLite), a template page with a session, and a WebSocket echo, for
``--minutes`` (10 by default), while ``--users`` virtual users (64) keep sending requests
of every kind. Every ``--every`` seconds (30) it prints one line: requests per second,
p50 and p99 latency of the interval, 5xx answers and failed requests, and the resident
memory of each worker process. At the end: totals, and each worker's memory growth after
warm-up (the first interval). A healthy run has zero 5xx, zero failures, and memory that
stays flat after warm-up.

    python benchmarks/soak.py --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

APP = """
import os

from sqlalchemy import String, select

from nightowl import App, Request, WebSocket, render
from nightowl.db import AsyncSession, Mapped, Model, mapped_column
from nightowl.sessions import HTTPSession


class SoakNote(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


app = App(
    database=os.environ["SOAK_DATABASE"],
    secret_key="soak-secret-key-soak-secret-key-soak-secret-key",
    templates="templates",
)


@app.get("/json")
async def json_route(n: int = 1) -> dict[str, object]:
    return {"message": "hello", "items": list(range(n))}


@app.post("/notes", status_code=201)
async def add_note(data: SoakNote.schema("create"), db: AsyncSession) -> SoakNote:
    note = SoakNote.from_schema(data)
    db.add(note)
    await db.flush()
    return note


@app.get("/notes")
async def latest_notes(db: AsyncSession) -> list[SoakNote]:
    rows = await db.scalars(select(SoakNote).order_by(SoakNote.id.desc()).limit(20))
    return list(rows)


@app.get("/page")
async def page(request: Request, session: HTTPSession):
    session["visits"] = session.get("visits", 0) + 1
    return render("page.html", request, visits=session["visits"])


@app.websocket("/echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text)
"""

PAGE = """<!doctype html><title>Soak</title>
<p>Visit {{ visits }}</p><form method="post">{{ csrf_input() }}</form>"""


@dataclass
class Tally:
    """What the virtual users saw in one interval."""

    latencies: list[float] = field(default_factory=list)
    server_errors: int = 0
    failures: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, seconds: float, status: int) -> None:
        self.latencies.append(seconds)
        if status >= 500:
            self.server_errors += 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(folder: Path) -> str:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
    except OSError:
        return f"sqlite:///{folder / 'soak.db'}"
    return PG_URL


def worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    pids = [int(p) for p in children.read_text().split()] if children.exists() else []
    # Workers are spawned by multiprocessing; its resource tracker is a child too.
    return [p for p in pids if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def user(base: str, tally: list[Tally], stop: float) -> None:
    ws_url = base.replace("http://", "ws://") + "/echo"
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout would close them
    # under a request (a race of the client's, not a server error).
    limits = httpx.Limits(keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        while time.monotonic() < stop:
            kind = random.choices(["json", "read", "write", "page", "ws"], [40, 25, 10, 20, 5])[0]
            start = time.perf_counter()
            try:
                if kind == "ws":
                    async with websockets.connect(ws_url) as ws:
                        for i in range(5):
                            await ws.send(f"ping {i}")
                            assert await ws.recv() == f"ping {i}"
                    status = 200
                elif kind == "json":
                    status = (
                        await client.get("/json", params={"n": random.randint(1, 50)})
                    ).status_code
                elif kind == "read":
                    status = (await client.get("/notes")).status_code
                elif kind == "write":
                    response = await client.post("/notes", json={"text": "soak"})
                    status = response.status_code
                else:
                    status = (await client.get("/page")).status_code
            except Exception as exc:  # any failure is counted, and the run goes on
                tally[-1].failures += 1
                reason = f"{kind}: {type(exc).__name__}"
                tally[-1].reasons[reason] = tally[-1].reasons.get(reason, 0) + 1
                continue
            tally[-1].add(time.perf_counter() - start, status)


def p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


async def drive(base: str, server: subprocess.Popen[bytes], args: argparse.Namespace) -> int:
    stop = time.monotonic() + args.minutes * 60
    tally = [Tally()]
    users = [asyncio.create_task(user(base, tally, stop)) for _ in range(args.users)]
    memory: dict[int, list[float]] = {}
    totals = Tally()
    print(
        f"{'time':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} {'fail':>5}  worker RSS MiB"
    )
    started = time.monotonic()
    while time.monotonic() < stop:
        await asyncio.sleep(min(args.every, max(0.0, stop - time.monotonic())))
        current, tally[0] = tally[0], Tally()
        for pid in worker_pids(server.pid):
            memory.setdefault(pid, []).append(rss_mib(pid))
        rss = "  ".join(f"{pid}:{values[-1]:.1f}" for pid, values in sorted(memory.items()))
        elapsed = time.monotonic() - started
        rate = len(current.latencies) / args.every
        print(
            f"{elapsed:>5.0f}s {rate:>8.0f} {p(current.latencies, 0.5):>8.1f} "
            f"{p(current.latencies, 0.99):>8.1f} {current.server_errors:>5} {current.failures:>5}  {rss}",
            flush=True,
        )
        totals.latencies += current.latencies
        totals.server_errors += current.server_errors
        totals.failures += current.failures
        for reason, count in current.reasons.items():
            totals.reasons[reason] = totals.reasons.get(reason, 0) + count
    await asyncio.gather(*users)
    print(
        f"\ntotal: {len(totals.latencies)} requests, "
        f"{len(totals.latencies) / (args.minutes * 60):.0f}/s, p50 {p(totals.latencies, 0.5):.1f} ms, "
        f"p99 {p(totals.latencies, 0.99):.1f} ms, 5xx {totals.server_errors}, failures {totals.failures}"
    )
    if totals.reasons:
        print(
            "failures by kind:", ", ".join(f"{r} x{n}" for r, n in sorted(totals.reasons.items()))
        )
    for pid, values in sorted(memory.items()):
        after_warmup = values[1:] or values
        print(
            f"worker {pid}: RSS after warm-up {after_warmup[0]:.1f} MiB, at the end {values[-1]:.1f} MiB "
            f"(min {min(after_warmup):.1f}, max {max(after_warmup):.1f}, median {statistics.median(after_warmup):.1f})"
        )
    return 1 if totals.server_errors or totals.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between report lines")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="nightowl-soak-"))
    (folder / "templates").mkdir()
    (folder / "templates" / "page.html").write_text(PAGE)
    (folder / "app.py").write_text(APP)
    env = {**os.environ, "SOAK_DATABASE": database_url(folder)}
    setup = "from app import app; app.state.database.drop_all(); app.state.database.create_all()"
    subprocess.run([sys.executable, "-c", setup], cwd=folder, env=env, check=True)
    port = free_port()
    nightowl = str(Path(sys.executable).parent / "nightowl")
    command = [
        nightowl,
        "serve",
        "app:app",
        "--workers",
        "2",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    print(
        f"database: {env['SOAK_DATABASE']}; {args.users} users for {args.minutes} min; {' '.join(command[1:])}"
    )
    server = subprocess.Popen(command, cwd=folder, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the server did not start")
                    return 2
                time.sleep(0.2)
        return asyncio.run(drive(base, server, args))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
