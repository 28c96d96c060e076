"""The machinery ``db_bench.py`` and ``fortunes_bench.py`` share (in-process ASGI calls).

Like ``asgi_bench.py``: prebuilt scopes, the app awaited directly, interleaved samples
(every sample runs each contender once, in a rotating order), medians, and answers
checked before anything is timed. Differences: one route per scenario (the variety is on
the server side: random rows), and ``receive`` blocks after the body like a real
server's (Django listens for ``http.disconnect`` while the view runs; an instant
disconnect would abort its requests).
"""

from __future__ import annotations

import asyncio
import gc
import html.parser
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps.techempower import expected_fortunes
from asgi_bench import Lifespan, drive, ratio_text

Message = MutableMapping[str, Any]
Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

__all__ = [
    "ASGIApp",
    "Contender",
    "Lifespan",
    "Reply",
    "Scenario",
    "call",
    "check_fortunes_html",
    "check_fortunes_json",
    "make_scope",
    "print_tables",
    "ratio_text",
    "run_scenario",
]

_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"te-bench/1.0"),
    (b"accept", b"*/*"),
]


class Receiver:
    """An ASGI ``receive``: an empty request body, then it waits (the client stays)."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False

    async def __call__(self) -> Message:
        if not self.sent:
            self.sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # cancelled by whoever listens for a disconnect
        return {"type": "http.disconnect"}


def make_scope(path: str, query: bytes = b"") -> Scope:
    """A ``GET`` scope for ``path`` and ``query``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": list(_HEADERS),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


@dataclass
class Contender:
    """One app, started (lifespan) and ready; ``close`` runs after its shutdown."""

    name: str
    app: ASGIApp
    lifespan: Lifespan
    notes: str = ""
    close: Callable[[], Awaitable[None]] | None = None

    def scope(self, path: str, query: bytes = b"") -> Scope:
        """A fresh scope carrying this app's lifespan state."""
        scope = make_scope(path, query)
        scope["state"] = dict(self.lifespan.state)
        return scope

    async def stop(self) -> None:
        """Lifespan shutdown, then ``close``."""
        try:
            await self.lifespan.shutdown()
        finally:
            if self.close is not None:
                await self.close()


@dataclass
class Reply:
    """What an app sent back."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (fails loudly when it is not)."""
        return json.loads(self.body)


async def call(contender: Contender, path: str, query: bytes = b"") -> Reply:
    """One request, collecting the answer (10 s at most)."""
    sent: list[Message] = []

    async def collect(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(contender.app(contender.scope(path, query), Receiver(), collect), 10)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    if start is None:
        raise AssertionError(f"{contender.name} {path}: no http.response.start in {sent!r}")
    headers = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Reply(start["status"], headers, body)


# -- correctness checks -------------------------------------------------------------------------
class _Cells(html.parser.HTMLParser):
    """The text of every ``<td>``/``<th>`` per ``<tr>``, character references decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def check_fortunes_html(reply: Reply) -> None:
    """The TechEmpower fortunes page: status, content type, escaping, the 13 sorted rows."""
    assert reply.status == 200, f"status {reply.status}: {reply.body[:300]!r}"
    content_type = reply.headers.get("content-type", "").replace(" ", "").lower()
    assert content_type.startswith("text/html"), f"content-type {content_type!r}"
    assert "charset=utf-8" in content_type, f"content-type {content_type!r}"
    text = reply.body.decode("utf-8")
    assert "<script>" not in text, "the <script> fortune is not escaped"
    assert "&lt;script&gt;alert(" in text, "the <script> fortune is missing or oddly escaped"
    assert "フレームワークのベンチマーク" in text, "the Japanese fortune is not UTF-8 text"
    parser = _Cells()
    parser.feed(text)
    parser.close()
    expected = [["id", "message"]] + [[str(i), m] for i, m in expected_fortunes()]
    assert parser.rows == expected, f"rows {parser.rows!r} != {expected!r}"


def check_fortunes_json(reply: Reply) -> None:
    """The fortunes as JSON: the 13 rows sorted by message."""
    assert reply.status == 200, f"status {reply.status}: {reply.body[:300]!r}"
    expected = [{"id": i, "message": m} for i, m in expected_fortunes()]
    assert reply.json() == expected, f"{reply.json()!r} != {expected!r}"


# -- timing -------------------------------------------------------------------------------------
@dataclass
class Scenario:
    """A route to time: its path and query, requests per sample, and its check."""

    name: str
    path: str
    query: bytes = b""
    requests: int = 500
    check: Callable[[Contender], Awaitable[None]] | None = None
    results: dict[int, dict[str, float]] = field(default_factory=dict)  # concurrency -> µs
    cpu: dict[int, dict[str, float]] = field(default_factory=dict)  # the same, process CPU µs


async def time_once(
    contender: Contender, scenario: Scenario, count: int, concurrency: int
) -> float:
    """Seconds per request for ``count`` requests, ``concurrency`` at a time (gather batches)."""
    batch = [(contender.scope(scenario.path, scenario.query), Receiver()) for _ in range(count)]
    gc.collect()
    cpu_start = time.process_time()
    start = time.perf_counter()
    await drive(contender.app, batch, concurrency)
    wall = time.perf_counter() - start
    return wall / count, (time.process_time() - cpu_start) / count


async def run_scenario(
    contenders: list[Contender],
    scenario: Scenario,
    concurrencies: list[int],
    samples: int,
    scale: float = 1.0,
) -> None:
    """Check every contender's answer, then time the interleaved samples per concurrency."""
    for contender in contenders:
        if scenario.check is not None:
            try:
                await scenario.check(contender)
            except AssertionError as exc:
                raise SystemExit(f"FAIL {contender.name} {scenario.name}: {exc}") from None
    count = max(16, int(scenario.requests * scale))
    for concurrency in concurrencies:
        for contender in contenders:  # warm-up: connections opened, caches filled
            await time_once(contender, scenario, max(concurrency * 2, count // 10), concurrency)
        timings: dict[str, list[float]] = {c.name: [] for c in contenders}
        cpu: dict[str, list[float]] = {c.name: [] for c in contenders}
        for sample in range(samples):
            shift = sample % len(contenders)
            for contender in contenders[shift:] + contenders[:shift]:
                seconds, cpu_seconds = await time_once(contender, scenario, count, concurrency)
                timings[contender.name].append(seconds)
                cpu[contender.name].append(cpu_seconds)
        scenario.results[concurrency] = {
            name: statistics.median(values) * 1e6 for name, values in timings.items()
        }
        scenario.cpu[concurrency] = {
            name: statistics.median(values) * 1e6 for name, values in cpu.items()
        }
        row = "  ".join(f"{n} {us:.0f}" for n, us in scenario.results[concurrency].items())
        print(f"  {scenario.name:<14} c={concurrency:<3} µs/request: {row}", flush=True)


# -- reporting ----------------------------------------------------------------------------------
def print_tables(
    title: str, scenarios: list[Scenario], concurrencies: list[int], peers_of_interest: list[str]
) -> list[tuple[str, int, float, str, float]]:
    """Markdown tables (µs/request and req/s) plus nightowl's ratio to the faster peer.

    Returns ``(scenario, concurrency, nightowl µs, fastest peer, its µs)`` per row.
    """
    rows = [(s, c) for s in scenarios for c in concurrencies if c in s.results]
    if not rows:
        return []
    names: list[str] = []
    for s, c in rows:
        names.extend(n for n in s.results[c] if n not in names)
    print(f"\n### {title} (µs/request, median; lower is better; req/s in brackets)\n")
    print("| scenario | in flight | " + " | ".join(names) + " | nightowl vs fastest peer |")
    print("|---|---" + "|---" * len(names) + "|---|")
    outcome: list[tuple[str, int, float, str, float]] = []
    for s, c in rows:
        result = s.results[c]
        cells = [
            f"{result[n]:,.0f} ({1e6 / result[n]:,.0f})" if n in result else "-" for n in names
        ]
        peers = {n: us for n, us in result.items() if n in peers_of_interest}
        verdict = "-"
        if "nightowl" in result and peers:
            fastest = min(peers, key=peers.__getitem__)
            verdict = f"{ratio_text(result['nightowl'], peers[fastest])} than {fastest}"
            outcome.append((s.name, c, result["nightowl"], fastest, peers[fastest]))
        print(f"| {s.name} | {c} | " + " | ".join(cells) + f" | {verdict} |")
    print(f"\n{title}: CPU of this process, µs/request (median; the database server excluded)\n")
    print("| scenario | in flight | " + " | ".join(names) + " |")
    print("|---|---" + "|---" * len(names) + "|")
    for s, c in rows:
        cpu = s.cpu.get(c, {})
        cells = [f"{cpu[n]:,.0f}" if n in cpu else "-" for n in names]
        print(f"| {s.name} | {c} | " + " | ".join(cells) + " |")
    return outcome


def run_main(main_async: Callable[[], Awaitable[Any]], loop: str) -> Any:
    """Print the machine's state, run ``main_async()`` on ``loop`` and print the total time."""
    import os
    import platform

    print(
        f"Python {platform.python_version()}, loop={loop}, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    started = time.perf_counter()
    runner: Any = asyncio.run
    if loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("uvloop is not installed; using asyncio's loop")
        else:
            runner = uvloop.run
    result = runner(main_async())
    print(f"\ntotal time {time.perf_counter() - started:.0f} s")
    return result
