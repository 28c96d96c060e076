"""Broadcast: WebSocket clients spread over 2 worker processes sharing one Redis, one
publisher; messages delivered per second, delivery latency and CPU per delivery, nightowl
against its peers.

Each framework's app (``apps/broadcast_*.py``) serves ``/ws`` (subscribe to the channel
``bench``, send ``{"type":"ready"}`` once subscribed, then forward every message as a text
frame) and ``POST /publish`` (publish the JSON body on ``bench``). For each server setup
and framework:

1. a Redis of the benchmark's own (``redis-server`` on a free port, no persistence) and
   two server processes on two ports (the setups are below);
2. ``--clients`` WebSocket clients, half on each worker, in ``--client-procs`` processes
   (the script's own lean RFC 6455 client, :class:`BenchClient`: the clients share the
   cores with the servers and must cost less per frame than they do); every client
   offers permessage-deflate, as browsers do, and waits for ``ready``;
3. one publisher POSTs ``--messages`` messages to the first worker, each carrying the
   time it was sent: 8 requests in flight, so that it is not what limits the rate, or,
   with ``--rate``, that many per second whatever the server's pace (an open loop);
4. every client records when each message arrives. Delivered/s is all deliveries over the
   time from the first publish to the last delivery; latency is arrival minus send time.
   The CPU time of the two server processes and of the client processes over that span is
   divided by the deliveries: unlike the rates, it hardly moves with the machine's load.

Setups (``--setups``):

* ``uvicorn``: every framework under the same command, ``uvicorn APP --ws
  websockets-sansio --loop uvloop --http httptools``, with uvicorn's defaults (which
  accept permessage-deflate);
* ``uvicorn-no-deflate``: the same with ``--ws-per-message-deflate false`` for everyone;
* ``own``: each framework's own production command: ``nightowl serve`` for nightowl
  (which turns permessage-deflate off unless asked for it, and whose WebSocket protocol
  lets ``channels.forward`` write frames directly), uvicorn as in ``uvicorn`` for the
  others (their documentation's command for an ASGI server).

Every frame carries one message: no setup batches messages into frames.

``--fanout`` measures nightowl's own part alone, in process: ``channels.forward`` to
``--clients`` WebSockets whose server ``send`` does nothing, on the memory backend, with
one message per wake-up of the subscribers and with eight; through the ASGI ``send``, and
through direct writes (a scope offering the ``nightowl.broadcast`` extension, whose
``write`` does nothing either).

``--baseline GIT_REF`` adds rows for the nightowl of another revision (its
``src/nightowl`` first on the workers' ``PYTHONPATH``), measured in the same run.

Run: ``python benchmarks/broadcast_bench.py [--clients 1000] [--messages 100] [--rounds 1]``
(``pip install -e . -r benchmarks/requirements.txt``; ``redis-server`` on the PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
FRAMEWORKS = {
    "nightowl": "broadcast_nightowl:app",
    "starlette+broadcaster": "broadcast_starlette:app",
    "django-channels": "broadcast_django:app",
    "litestar": "broadcast_litestar:app",
}
SETUPS = ("uvicorn", "uvicorn-no-deflate", "granian", "own")
#: ``--baseline REF``: framework name (``nightowl@REF``) -> the unpacked ``src`` of REF.
BASELINES: dict[str, Path] = {}
UVICORN = ["-m", "uvicorn", "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools"]
QUIET = ["--log-level", "warning", "--no-access-log"]


def server_command(setup: str, framework: str, port: int) -> list[str]:
    """The command line of one worker of ``framework`` under ``setup``."""
    target = FRAMEWORKS[framework]
    if setup == "own" and framework.startswith("nightowl"):
        nightowl = str(Path(sys.executable).parent / "nightowl")
        return [nightowl, "serve", target, "--port", str(port), *QUIET]
    if setup == "granian":
        granian = str(Path(sys.executable).parent / "granian")
        command = [granian, "--interface", "asgi", "--loop", "uvloop", "--port", str(port)]
        return [*command, "--log-level", "warning", "--no-access-log", target]
    command = [sys.executable, *UVICORN, target, "--port", str(port), *QUIET]
    if setup == "uvicorn-no-deflate":
        command += ["--ws-per-message-deflate", "false"]
    return command


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


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and of its live descendants (a
    server's worker processes), from Linux's ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    return total


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
def workers(setup: str, framework: str, redis_url: str) -> Iterator[list[tuple[int, int]]]:
    """Two workers of ``framework``: ``[(port, pid), ...]``. What they print goes to a
    file (Django Channels logs a traceback per client that leaves at the end); its size
    is reported."""
    ports = [free_port(), free_port()]
    path = [str(HERE / "apps")]
    if framework in BASELINES:  # before the installed nightowl on sys.path
        path.insert(0, str(BASELINES[framework]))
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": os.pathsep.join(path)}
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(tempfile.TemporaryFile())
        procs = [
            stack.enter_context(
                process(
                    server_command(setup, framework, port),
                    env=env,
                    cwd=HERE / "apps",
                    stdout=log,
                    stderr=log,
                )
            )
            for port in ports
        ]
        try:
            for port in ports:
                wait_port(port)
            yield [(port, proc.pid) for port, proc in zip(ports, procs, strict=True)]
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    # Starlette + broadcaster's workers can hang in their shutdown
                    # (the lifespan's subscription never ends) once clients have come
                    # and gone; what they measured is already in.
                    print(f"  ({framework}: a worker did not stop in 10 s; killed)", flush=True)
                    proc.kill()
                    proc.wait()
            log.seek(0)
            lines = log.read().decode(errors="replace").splitlines()
            errors = [line for line in lines if "Error" in line or "Traceback" in line]
            if errors:
                print(
                    f"  ({framework} workers logged {len(errors)} error lines, the first:"
                    f" {errors[0][:120]})",
                    flush=True,
                )


# -- the clients (run as subprocesses: python broadcast_bench.py --client ...) ---------------
class BenchClient(asyncio.Protocol):
    """One WebSocket client (RFC 6455), written for the benchmark so that the clients cost
    as little CPU per frame as they can: the clients share the machine's cores with the
    servers, and a client that spends more per frame than the server that sends it (as
    websockets' sans-I/O parser did, 9 to 20 us against the fastest server's 6) makes the
    clients, not the server, what limits the rate and the latency.

    It offers permessage-deflate as browsers do (``client_max_window_bits``), inflates
    compressed messages with ``zlib``, answers pings and close frames, and takes one
    arrival time per read from the socket (the time the bytes reached the process). No
    task or ``await`` per connection or frame."""

    def __init__(self, url: str, run: ClientRun) -> None:
        netloc, _, path = url.partition("//")[2].partition("/")
        self.key = base64.b64encode(os.urandom(16))
        self.request = (
            f"GET /{path} HTTP/1.1\r\nHost: {netloc}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {self.key.decode()}\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
        self.run = run
        self.ready = False
        self.got = 0
        self.open = False
        self.buffer = b""
        self.fragments: list[bytes] = []
        self.compressed = False
        self.inflater: Any = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        data = self.buffer + data if self.buffer else data
        if not self.open:
            head, found, data = data.partition(b"\r\n\r\n")
            if not found:
                self.buffer = head
                return
            self.handshake(head)
        size = len(data)
        position = 0
        texts = []  # the whole, uncompressed text messages of this read: the usual case
        while size - position >= 2:
            first, length = data[position], data[position + 1]
            start = position + 2
            if length == 126:
                start += 2
                length = int.from_bytes(data[position + 2 : start], "big")
            elif length == 127:
                start += 8
                length = int.from_bytes(data[position + 2 : start], "big")
            end = start + length
            if end > size:
                break
            if first == 0x81 and not self.fragments:
                texts.append(data[start:end])
            else:
                message = self.frame(first, data[start:end])
                if message is not None:
                    texts.append(message)
            position = end
        self.buffer = data[position:]
        if texts:
            self.received(texts)

    def received(self, texts: list[bytes]) -> None:
        """Record the arrival of this read's messages (one time for them all: when the
        bytes reached the process)."""
        now = time.time()
        if not self.ready:
            self.ready = b"ready" in texts.pop(0)
            if not self.ready:
                raise RuntimeError("the first message was not the welcome")
            self.run.client_ready()
            if not texts:
                return
        run = self.run
        run.reads.append((now, texts))  # the latencies are worked out after the run
        got = self.got = self.got + len(texts)
        if got >= run.messages:
            run.client_done()

    def handshake(self, head: bytes) -> None:
        status, *lines = head.decode("latin-1").split("\r\n")
        if status.split()[1:2] != ["101"]:
            raise RuntimeError(f"the server refused the WebSocket handshake: {status}")
        headers = dict(line.lower().split(":", 1) for line in lines)
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode().lower()
        if headers.get("sec-websocket-accept", "").strip() != accept:
            raise RuntimeError("the server's Sec-WebSocket-Accept is wrong")
        if "permessage-deflate" in headers.get("sec-websocket-extensions", ""):
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.open = True

    def frame(self, first: int, payload: bytes) -> bytes | None:
        """Handle a frame other than a whole uncompressed text message; the message it
        completes, if any."""
        opcode = first & 0x0F
        if opcode in (0, 1):  # a text frame, or the continuation of one
            if opcode == 1:
                self.compressed = bool(first & 0x40)
            if not first & 0x80:
                self.fragments.append(payload)
                return None
            if self.fragments:
                payload = b"".join([*self.fragments, payload])
                self.fragments.clear()
            if self.compressed:
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            return payload
        if opcode == 9:  # ping
            self.send(0x8A, payload)
        elif opcode == 8:  # close: echo it, as the protocol asks
            self.send(0x88, payload[:2])
        return None

    def send(self, first: int, payload: bytes) -> None:
        """A frame from the client, masked as the protocol requires (payloads under 126
        bytes: pongs and close frames only)."""
        if self.transport is None:
            return
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(bytes([first, 0x80 | len(payload)]) + mask + masked)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.got < self.run.messages:
            self.run.client_failed()


#: The constant that RFC 6455 appends to the client's key for the server's accept value.
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def sent_at(payload: bytes) -> float:
    """The ``t`` (send time) of a message, ``{"t": 1764..., "n": ...}``, without parsing
    the whole of it as JSON; falls back to the JSON parser for any other layout."""
    start = payload.find(b'"t":')
    if start >= 0:
        try:  # not contextlib.suppress: this runs once per delivery
            return float(payload[start + 4 : payload.find(b",", start)])
        except ValueError:
            pass
    return float(json.loads(payload)["t"])


class ClientRun:
    """The clients of one client process, and what they recorded."""

    def __init__(self, count: int, messages: int) -> None:
        self.count = count
        self.messages = messages
        #: ``(arrival time, messages)`` of every read from a socket that held messages.
        self.reads: list[tuple[float, list[bytes]]] = []
        self.ready = self.done = self.failed = 0
        self.cpu_at_ready = 0.0
        self.finished = asyncio.get_running_loop().create_future()

    def client_ready(self) -> None:
        self.ready += 1
        if self.ready == self.count:
            self.cpu_at_ready = time.process_time()
            print("READY", flush=True)

    def client_done(self) -> None:
        self.done += 1
        self._check()

    def client_failed(self) -> None:
        self.failed += 1
        self._check()

    def _check(self) -> None:
        if self.done + self.failed == self.count and not self.finished.done():
            self.finished.set_result(None)


async def client_main(urls: list[str], count: int, messages: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    run = ClientRun(count, messages)
    clients: list[BenchClient] = []
    for index in range(count):
        url = urls[index % len(urls)]
        host, _, port = url.split("/")[2].partition(":")
        _, client = await loop.create_connection(
            lambda url=url: BenchClient(url, run),  # type: ignore[misc]
            host,
            int(port),
        )
        clients.append(client)
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # no SYN flood
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(run.finished), timeout)
    cpu = time.process_time() - run.cpu_at_ready
    for client in clients:
        if client.transport is not None:
            client.transport.abort()
    unfinished = count - run.done - run.failed
    latencies = [now - sent_at(text) for now, texts in run.reads for text in texts]
    last = max((now for now, _ in run.reads), default=0.0)
    report = {"latencies": latencies, "last": last}
    report |= {"errors": run.failed, "unfinished": unfinished}
    print(json.dumps({**report, "cpu": cpu}))


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


async def publish_at_rate(port: int, messages: int, rate: float) -> None:
    """Publish ``rate`` messages per second whatever the server's pace (an open loop), so
    that every framework's latency is measured under the same offered load."""
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as publisher:

        async def post(n: int) -> None:
            body = json.dumps({"t": time.time(), "n": n, "text": "x" * 64})
            (await publisher.post("/publish", content=body)).raise_for_status()

        started = time.monotonic()
        posts = []
        for n in range(messages):
            posts.append(asyncio.ensure_future(post(n)))
            await asyncio.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))
        await asyncio.gather(*posts)


def run_clients(
    servers: list[tuple[int, int]], clients: int, procs: int, messages: int, rate: float | None
) -> dict[str, Any]:
    urls = ",".join(f"ws://127.0.0.1:{port}/ws" for port, _ in servers)
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
        server_cpu = -sum(cpu_seconds(pid) for _, pid in servers)
        started = time.time()
        if rate:
            asyncio.run(publish_at_rate(servers[0][0], messages, rate))
        else:
            asyncio.run(publish_all(servers[0][0], messages, PUBLISH_CONCURRENCY))
        published = time.time()
        results = []
        for child in children:
            assert child.stdout is not None
            results.append(json.loads(child.stdout.read()))
        server_cpu += sum(cpu_seconds(pid) for _, pid in servers)
    latencies = sorted(latency for result in results for latency in result["latencies"])
    last = max((result["last"] for result in results), default=0.0) or published
    delivered = len(latencies)
    client_cpu = sum(result["cpu"] for result in results)
    return {
        "delivered": delivered,
        "expected": clients * messages,
        "per_second": delivered / (last - started) if delivered else 0.0,
        "publish_per_second": messages / (published - started),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "server_us": 1e6 * server_cpu / delivered if delivered else float("nan"),
        "client_us": 1e6 * client_cpu / delivered if delivered else float("nan"),
        "errors": sum(r["errors"] + r["unfinished"] for r in results),
    }


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of every figure over the rounds (delivered: the smallest)."""
    row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    row["expected"] = runs[0]["expected"]
    row["delivered"] = min(run["delivered"] for run in runs)
    row["errors"] = max(run["errors"] for run in runs)
    return row


def print_row(setup: str, name: str, row: dict[str, Any]) -> None:
    print(
        f"{setup:19} {name:22} {row['delivered']:>7}/{row['expected']}"
        f"  {row['per_second']:>8,.0f} msg/s  p50 {row['p50_ms']:7.1f} ms"
        f"  p99 {row['p99_ms']:7.1f} ms  CPU/delivery server {row['server_us']:5.1f} us"
        f" clients {row['client_us']:5.1f} us  (publisher {row['publish_per_second']:,.0f}/s,"
        f" errors {row['errors']})",
        flush=True,
    )


def print_ratios(rows: dict[tuple[str, str], dict[str, Any]]) -> None:
    print("\nnightowl against each peer, same setup and against the peer under `uvicorn`:")
    print("delivered msg/s ratio, p99 ratio and server CPU per delivery ratio (lower is better)")
    for (setup, name), base in rows.items():
        if not name.startswith("nightowl"):
            continue
        for (peer_setup, peer), row in rows.items():
            if peer.startswith("nightowl") and (peer == name or peer_setup != setup):
                continue
            if not row["per_second"]:
                continue
            if peer_setup not in (setup, "uvicorn"):
                continue
            print(
                f"  {name}/{setup:19} vs {peer}/{peer_setup:19}"
                f" {base['per_second'] / row['per_second']:5.2f}x msg/s"
                f"   p99 x{base['p99_ms'] / row['p99_ms']:.2f}"
                f"   server CPU x{base['server_us'] / row['server_us']:.2f}"
            )


# -- nightowl's own part, in process (python broadcast_bench.py --fanout) ----------------------
async def fanout_cpu(subscribers: int, messages: int, burst: int, direct: bool) -> float:
    """CPU microseconds per delivery of nightowl's fan-out alone: the memory backend,
    ``channels.forward`` to ``subscribers`` WebSockets whose server ``send`` does nothing,
    ``messages`` published ``burst`` at a time (the subscribers wake once per burst).
    With ``direct``, the scope offers the ``nightowl.broadcast`` extension, whose
    ``write`` does nothing either."""
    from nightowl.channels import Channels
    from nightowl.websockets import WebSocket

    loop = asyncio.get_running_loop()
    hub = Channels("memory://")
    await hub.start()
    sent = 0
    expected = subscribers * (messages + 1)  # the welcome, then every message
    finished = loop.create_future()
    never = loop.create_future()

    def count(frames: int) -> None:
        nonlocal sent
        sent += frames
        if sent == expected:
            finished.set_result(None)

    async def send(event: Any) -> None:
        if event["type"] == "websocket.send":
            count(1)

    class NullWriter:
        def write(self, chunk: bytes) -> bool:
            # Frames of one turn come in one chunk; each starts with 0x81 (a final text
            # frame), a byte that neither a short ASCII payload nor its length holds.
            count(chunk.count(0x81))
            return True

    extensions = {"nightowl.broadcast": NullWriter()} if direct else {}

    def receiver() -> Any:
        events = [{"type": "websocket.connect"}]

        async def receive() -> Any:
            if events:
                return events.pop()
            return await never

        return receive

    scope = {"type": "websocket", "path": "/ws", "headers": [], "query_string": b""}
    scope["extensions"] = extensions
    forwards = [
        asyncio.ensure_future(
            hub.forward(WebSocket(dict(scope), receiver(), send), "bench", welcome={})
        )
        for _ in range(subscribers)
    ]
    while hub.subscriber_count < subscribers:
        await asyncio.sleep(0.01)
    started = time.process_time()
    for number in range(messages):
        await hub.publish("bench", {"t": 0.0, "n": number, "text": "x" * 64})
        if number % burst == burst - 1:
            await asyncio.sleep(0)  # let the subscribers run, as between two Redis reads
    await finished
    cpu = time.process_time() - started
    for forward in forwards:
        forward.cancel()
    await asyncio.gather(*forwards, return_exceptions=True)
    await hub.close()
    return 1e6 * cpu / (subscribers * messages)


def fanout_main(subscribers: int, messages: int, rounds: int) -> None:
    import uvloop

    print(f"nightowl's fan-out alone, {subscribers} subscribers, {messages} messages, no-op send:")
    for direct in (False, True):
        path = "direct writes" if direct else "ASGI send    "
        for burst in (1, 8):
            runs = [
                uvloop.run(fanout_cpu(subscribers, messages, burst, direct)) for _ in range(rounds)
            ]
            print(
                f"  {path}, {burst} message(s) per wake-up: {statistics.median(runs):5.2f} us"
                f" CPU per delivery (median of {rounds}; load average {os.getloadavg()[0]:.1f})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each row, interleaved")
    parser.add_argument("--only", nargs="*", choices=sorted(FRAMEWORKS), default=None)
    parser.add_argument("--setups", nargs="*", choices=SETUPS, default=["uvicorn", "own"])
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="publish this many messages per second (an open loop) instead of 8 at a time",
    )
    parser.add_argument(
        "--baseline",
        metavar="GIT_REF",
        help="add rows for the nightowl of GIT_REF (its src/nightowl, today's apps)",
    )
    parser.add_argument(
        "--fanout",
        action="store_true",
        help="measure nightowl's own fan-out in process instead (--clients subscribers)",
    )
    args = parser.parse_args()
    if args.fanout:
        fanout_main(args.clients, args.messages * 4, max(args.rounds, 5))
        return
    names = [name for name in FRAMEWORKS if not args.only or name in args.only]
    if args.baseline:
        from baseline import unpack

        label = f"nightowl@{args.baseline}"
        FRAMEWORKS[label] = FRAMEWORKS["nightowl"]
        BASELINES[label] = unpack(args.baseline) / "src"
        atexit.register(shutil.rmtree, BASELINES[label].parent, ignore_errors=True)
        names.insert(1, label)
    plan = [(setup, name) for setup in args.setups for name in names]
    if "uvicorn" in args.setups:  # a peer's own command is the `uvicorn` setup's
        plan = [(s, name) for s, name in plan if s != "own" or name.startswith("nightowl")]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {key: [] for key in plan}
    for round_number in range(args.rounds):
        shift = round_number % len(plan)
        for setup, name in plan[shift:] + plan[:shift]:
            with redis_server() as redis_url, workers(setup, name, redis_url) as servers:
                run = run_clients(
                    servers, args.clients, args.client_procs, args.messages, args.rate
                )
            runs[setup, name].append(run)
            if args.rounds > 1:
                print_row(setup, name, run)
    print(f"\nmedians of {args.rounds} round(s), load average {os.getloadavg()[0]:.1f}:")
    rows = {key: median_row(value) for key, value in runs.items()}
    for (setup, name), row in rows.items():
        print_row(setup, name, row)
    if any(name.startswith("nightowl") for _, name in rows):
        print_ratios(rows)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        urls, count, messages = sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4])
        import uvloop

        uvloop.run(client_main(urls, count, messages, timeout=120))
    else:
        main()
