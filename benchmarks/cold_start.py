"""Cold start: a hello-world app in a fresh process, nightowl against Flask and FastAPI.

Each run starts a new Python process that imports the framework, creates the app with
one route (``GET /`` answering ``{"message": "hello world"}`` from a plain ``def``
handler, as each framework's own hello world does) and answers one request in process:
nightowl and FastAPI through their ASGI callable under ``asyncio.run`` (no lifespan, no
server), Flask through its WSGI callable. No test client is involved, so none of them
pays for httpx or Werkzeug's test tools. The "nightowl, typed route" row adds a route
with an ``int`` path parameter, whose pydantic validator is built at the first request:
what an app with validated parameters or models pays for pydantic.

The figures are the median over the runs of:

* the whole process's wall time, from spawning the interpreter to its exit, measured by
  this script, and its CPU time (user + system, from ``wait4``), which moves less than
  wall time when other work shares the machine; the child also reports how long its
  three steps took (import, create the app, first request);
* its peak memory: what ``ru_maxrss`` reports for the process (``/usr/bin/time -f %M``
  gives the same), read by the child itself from ``VmHWM`` in ``/proc/self/status`` where
  there is one, since on Linux a child's ``ru_maxrss`` also counts the peak of the parent
  that spawned it; elsewhere the child's ``ru_maxrss``.

Runs are interleaved (every round runs each framework once, in a rotating order) after
one discarded warm-up run each. The children keep their bytecode in a temporary folder
(``PYTHONPYCACHEPREFIX``), so every module is compiled by the warm-up run and read from
its cache afterwards, as in production; ``--as-is`` keeps this environment's settings
instead (with ``PYTHONDONTWRITEBYTECODE=1`` and an editable install, every run then
compiles nightowl's sources, while installed packages have their bytecode).

    python benchmarks/cold_start.py                           # 15 runs each
    python benchmarks/cold_start.py --runs 31 --floors        # also the bare interpreter
    python benchmarks/cold_start.py --profile nightowl        # where nightowl's import goes
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Code shared by every child: timing marks, the ASGI/WSGI drivers, the report.
PRELUDE = """\
import time
_marks = [time.perf_counter()]

def _mark():
    _marks.append(time.perf_counter())

def _peak_kib():
    # VmHWM: this process's own peak. ru_maxrss would also count the parent's peak, which
    # Linux carries into a child at exec; the two agree when the parent is small.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def _report(status, body):
    peak = _peak_kib()
    import json, sys
    steps = [b - a for a, b in zip(_marks, _marks[1:])]
    report = {"status": status, "body": body.decode(), "steps": steps, "peak_kib": peak}
    sys.stdout.write(json.dumps(report))

def _asgi_get(app):
    import asyncio

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/",
        "raw_path": b"/", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    async def call():
        await app(scope, receive, send)

    asyncio.run(call())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body
"""

APPS = {
    "nightowl": """
from nightowl import App
_mark()
app = App()

@app.get("/")
def hello():
    return {"message": "hello world"}
_mark()
_status, _body = _asgi_get(app)
""",
    "nightowl-typed": """
from nightowl import App
_mark()
app = App()

@app.get("/")
def hello():
    return {"message": "hello world"}

@app.get("/users/{user_id}")
def user(user_id: int):
    return {"id": user_id}
_mark()
_status, _body = _asgi_get(app)
""",
    "flask": """
from flask import Flask
_mark()
app = Flask(__name__)

@app.get("/")
def hello():
    return {"message": "hello world"}
_mark()
_environ = {
    "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": "*/*", "REMOTE_ADDR": "127.0.0.1",
    "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": __import__("io").BytesIO(),
    "wsgi.errors": __import__("sys").stderr, "wsgi.multithread": False,
    "wsgi.multiprocess": False, "wsgi.run_once": False,
}
_started = []
_iterable = app(_environ, lambda status, headers, exc_info=None: _started.append(status))
_body = b"".join(_iterable)
getattr(_iterable, "close", lambda: None)()
_status = int(_started[0].split()[0])
""",
    "fastapi": """
from fastapi import FastAPI
_mark()
app = FastAPI()

@app.get("/")
def hello():
    return {"message": "hello world"}
_mark()
_status, _body = _asgi_get(app)
""",
}

#: What a framework stands on, for context (``--floors``): no app, no request. The
#: "one to_json" rows are what an ASGI app answering JSON through pydantic-core loads (its
#: first ``to_json`` imports uuid, pathlib and ipaddress): with the whole package, and with
#: its compiled extension alone, as nightowl loads it (``nightowl._pydantic_ext``); the
#: stdlib-json row, what one answering through the standard library's ``json`` would stand
#: on instead.
FLOORS = {
    "python": "",
    "python + asyncio": "import asyncio\n",
    "python + asyncio + pydantic-core": "import asyncio, pydantic_core\n",
    "... + one to_json": "import asyncio, pydantic_core\npydantic_core.to_json({})\n",
    "python + asyncio + pydantic-core's extension + one to_json": """\
import asyncio, importlib.machinery, importlib.util, sys
_folders = importlib.util.find_spec("pydantic_core").submodule_search_locations
_spec = importlib.machinery.PathFinder.find_spec("pydantic_core._pydantic_core", _folders)
_extension = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _extension
_spec.loader.exec_module(_extension)
_extension.to_json({})
""",
    "python + asyncio + stdlib json": "import asyncio, json\njson.dumps({})\n",
}

#: The row that runs nightowl from another source tree (``--baseline SRC``).
BASELINE = "nightowl (baseline)"

LABELS = {
    "nightowl": "nightowl",
    "nightowl-typed": "nightowl, typed route",
    "flask": "Flask",
    "fastapi": "FastAPI",
}
MODULES = {
    "nightowl": "nightowl",
    "nightowl-typed": "nightowl",
    "flask": "flask",
    "fastapi": "fastapi",
}
EXPECTED = {"message": "hello world"}


@dataclass(frozen=True)
class Row:
    """One line of the table: what runs, and from which source tree (``None``: installed)."""

    name: str
    code: str
    src: str | None = None
    floor: bool = False


def app_row(name: str, src: str | None = None, label: str | None = None) -> Row:
    """A framework's hello world."""
    code = PRELUDE + APPS[name] + "_mark()\n_report(_status, _body)\n"
    return Row(label or LABELS[name], code, src)


def floor_row(name: str) -> Row:
    """An interpreter with only what a framework stands on."""
    code = PRELUDE + FLOORS[name] + "_mark(); _mark(); _mark()\n_report(200, b'{}')\n"
    return Row(name, code, floor=True)


#: Where the children keep their bytecode: every module is compiled once, by the warm-up
#: run, and read from here afterwards, whatever PYTHONDONTWRITEBYTECODE says outside.
PYCACHE = tempfile.mkdtemp(prefix="cold-start-pycache-")
atexit.register(shutil.rmtree, PYCACHE, ignore_errors=True)


#: ``--as-is``: leave the bytecode settings of this environment alone.
AS_IS = False


def child_env(src: str | None) -> dict[str, str]:
    """The children's environment: bytecode cached in ``PYCACHE``, nothing profiled."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    if not AS_IS:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def measure(row: Row) -> dict[str, Any]:
    """One run: wall time from spawn to exit, and what the child reports."""
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-c", row.code],
        child_env(row.src),
        file_actions=[(os.POSIX_SPAWN_DUP2, write_fd, 1), (os.POSIX_SPAWN_CLOSE, read_fd)],
    )
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        out = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{row.name} failed (exit status {os.waitstatus_to_exitcode(status)})")
    report = json.loads(out)
    answer = json.loads(report["body"])
    if report["status"] != 200 or (not row.floor and answer != EXPECTED):
        raise SystemExit(f"{row.name} answered {report['status']} {report['body']!r}")
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall": wall,
        "cpu": cpu,
        "rss_mib": report["peak_kib"] / 1024,
        "steps": report["steps"],
    }


def installed(module: str, src: str | None = None) -> bool:
    """Whether ``module`` can be imported (checked in a child: nothing is imported here)."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    command = [sys.executable, "-c", probe]
    return subprocess.run(command, env=child_env(src), check=False).returncode == 0


def benchmark(rows: list[Row], runs: int) -> dict[str, dict[str, Any]]:
    """Interleaved runs after one warm-up each; the median of every figure."""
    for row in rows:
        measure(row)  # compiles the bytecode into PYCACHE, warms the page cache
    samples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for round_ in range(runs):
        shift = round_ % len(rows)
        for row in rows[shift:] + rows[:shift]:
            samples[row.name].append(measure(row))
    results = {}
    for row in rows:
        runs_of_row = samples[row.name]
        results[row.name] = {
            "wall": statistics.median(r["wall"] for r in runs_of_row),
            "cpu": statistics.median(r["cpu"] for r in runs_of_row),
            "rss_mib": statistics.median(r["rss_mib"] for r in runs_of_row),
            "import": statistics.median(r["steps"][0] for r in runs_of_row),
            "app": statistics.median(r["steps"][1] for r in runs_of_row),
            "request": statistics.median(r["steps"][2] for r in runs_of_row),
            "wall_min": min(r["wall"] for r in runs_of_row),
            "runs": len(runs_of_row),
            "floor": row.floor,
        }
    return results


def print_table(results: dict[str, dict[str, Any]], markdown: bool) -> None:
    """The figures side by side, and each row's ratio to nightowl (>1: nightowl does better)."""
    header = [
        "",
        "wall (s)",
        "CPU (s)",
        "import (ms)",
        "create app (ms)",
        "1st request (ms)",
        "peak RSS (MiB)",
        "wall / nightowl's",
        "RSS / nightowl's",
    ]
    base = results.get("nightowl")
    lines = []
    for name, r in results.items():
        if base is None or name == "nightowl":
            slower = heavier = "-"
        else:
            slower = f"{r['wall'] / base['wall']:.2f}x"
            heavier = f"{r['rss_mib'] / base['rss_mib']:.2f}x"
        lines.append(
            [
                name,
                f"{r['wall']:.3f}",
                f"{r['cpu']:.3f}",
                f"{r['import'] * 1000:.0f}" if not r["floor"] else "-",
                f"{r['app'] * 1000:.1f}" if not r["floor"] else "-",
                f"{r['request'] * 1000:.1f}" if not r["floor"] else "-",
                f"{r['rss_mib']:.1f}",
                slower,
                heavier,
            ]
        )
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


def profile(row: Row, top: int) -> None:
    """One run under ``-X importtime``: the packages that cost the most, by their own time."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", row.code],
        env=child_env(row.src),
        capture_output=True,
        text=True,
        check=True,
    )
    own: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, module = line.removeprefix("import time:").split("|")
        package = module.strip().split(".")[0]
        own[package] += int(self_us)
        count[package] += 1
    total = sum(own.values())
    print(f"{row.name}: {total / 1000:.0f} ms of imports in {sum(count.values())} modules")
    for package, us in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"  {us / 1000:7.1f} ms  {us / total:5.1%}  {package} ({count[package]} modules)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per row (15)")
    parser.add_argument(
        "--frameworks",
        default="nightowl,nightowl-typed,flask,fastapi",
        help="comma-separated, from nightowl, nightowl-typed, flask, fastapi (all four)",
    )
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="add a row for the nightowl found in SRC (a src/ folder), e.g. before a change",
    )
    parser.add_argument(
        "--floors",
        action="store_true",
        help="add rows for the bare interpreter, with asyncio, with pydantic-core, with one "
        "to_json (whole package, and extension alone), and with the stdlib's json",
    )
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="keep this environment's bytecode settings (no shared bytecode cache)",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--profile",
        metavar="FRAMEWORK",
        help="instead of timing, show one run's import time by package (-X importtime)",
    )
    parser.add_argument("--top", type=int, default=15, help="packages listed by --profile (15)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    global AS_IS
    AS_IS = args.as_is
    if args.profile:
        row = app_row(args.profile)
        measure(row)  # compile into PYCACHE first, so that compiling is not what shows
        profile(row, args.top)
        return
    names = [n.strip() for n in args.frameworks.split(",") if n.strip()]
    unknown = sorted(set(names) - set(APPS))
    if unknown:
        raise SystemExit(f"unknown framework(s): {', '.join(unknown)}")
    rows = []
    for name in names:
        if installed(MODULES[name]):
            rows.append(app_row(name))
        else:
            print(f"note: {LABELS[name]} is not installed; skipped", file=sys.stderr)
    if args.baseline:
        src = str(Path(args.baseline).resolve())
        if not installed("nightowl", src):
            raise SystemExit(f"no nightowl in {src}")
        rows.append(app_row("nightowl", src, BASELINE))
    if args.floors:
        rows += [floor_row(name) for name in FLOORS]
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {args.runs} runs each, "
        f"load average {os.getloadavg()[0]:.1f} at the start"
        + (", bytecode settings as is" if AS_IS else "")
    )
    results = benchmark(rows, args.runs)
    print_table(results, args.markdown)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
