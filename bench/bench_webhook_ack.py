"""How fast the bot acknowledges webhooks, each delivery durable before its 202, on each engine.

The bot is the real thing under uvicorn, as ``promotion-bot serve`` runs it, in its own process
on loopback: the FastAPI route checks the signature and stores the delivery with its job, the
queue opened by ``open_queue`` as ``serve`` opens it, committed before the answer (SQLite with
``synchronous=FULL``; PostgreSQL with ``fsync`` on, its server a throwaway cluster from
``tests/postgres.py``), and the worker runs in the same process, translating deliveries as they
come. The body is a real 28 kB ``pull_request.opened`` delivery, each request with its own
delivery id. A small client on raw sockets drives three loads, each on a fresh server and a
fresh queue (a new SQLite file, a new migrated PostgreSQL database; so no load inherits the last
one's backlog), ``ROUNDS`` times, on SQLite first, then PostgreSQL:

- a fixed ``RATE`` deliveries/s for ``RATE_SECONDS``: p99 of the acknowledgement, timed from
  when each request was due (a slow answer never delays the next request's clock);
- ``CONNECTIONS`` connections posting back to back for ``SATURATE_SECONDS``: 202s per second;
- ``BURST`` connections opened first, then every request written at once: p99 of the time from
  the first write to each answer, while the worker works on the deliveries already stored.

After each run the queue is read: every acknowledged delivery must be in it. The figures go to
the "Webhook acknowledgement" section of docs/benchmarks.md, a column per engine.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn

from bot.adapters.worker import Worker
from bot.bootstrap import open_queue
from bot.entrypoints.routing import JobProcessor, Router
from bot.entrypoints.web import create_app
from bot.entrypoints.webhooks import sign
from bot.logs import configure_logging
from bot.settings import load_settings
from tests.postgres import server

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests/data/webhooks-intake/api.github.com/pull_request/opened.payload.json"
REPORT = ROOT / "docs" / "benchmarks.md"
HEADING = "## Webhook acknowledgement"
SECRET = "bench-webhook-secret-0123456789"
RATE, RATE_SECONDS = 200, 5
CONNECTIONS, SATURATE_SECONDS = 64, 5
BURST = 1000
ROUNDS = 3
GOAL_P99_MS, GOAL_RATE, GOAL_BURST_P99_S = 20.0, 1000.0, 1.0


async def serve_bot(port: int) -> None:
    """What ``promotion-bot serve`` runs, worker included, on the queue its environment names
    (opened before uvicorn starts: PostgreSQL's pool opens in the event loop), until SIGTERM."""
    settings = load_settings()
    configure_logging(settings.log_level)
    async with open_queue(settings) as queue:
        worker = Worker(queue, JobProcessor(queue, Router({})), concurrency=settings.workers)
        app = create_app(settings, queue, worker)
        config = uvicorn.Config(
            app,
            port=port,
            loop="asyncio",
            access_log=False,
            log_level="warning",
            backlog=2 * BURST,
        )
        await uvicorn.Server(config).serve()


class Client:
    """One keep-alive connection posting signed deliveries of one body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Client:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send(self, head: bytes, body: bytes) -> None:
        self.writer.writelines((head, body))

    async def status(self) -> int:
        """The status of the next answer, its body read and dropped."""
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await self.reader.readexactly(int(length.group(1)) if length else 0)
        return int(head[9:12])

    async def post(self, head: bytes, body: bytes) -> int:
        self.send(head, body)
        return await self.status()

    def close(self) -> None:
        self.writer.close()


def request_head(body: bytes, delivery_id: str) -> bytes:
    return (
        "POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nX-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {delivery_id}\r\n"
        f"X-Hub-Signature-256: {sign(SECRET.encode(), body)}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()


@dataclass
class Load:
    """What one load saw: latencies (ms), 202s, other answers, seconds it took."""

    latencies: list[float]
    acknowledged: int = 0
    errors: int = 0
    seconds: float = 0.0

    def count(self, status: int) -> None:
        self.acknowledged += status == 202
        self.errors += status != 202

    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


async def fixed_rate(port: int, body: bytes) -> Load:
    """``RATE`` deliveries/s over a pool of connections opened before the clock starts."""
    idle: asyncio.Queue[Client] = asyncio.Queue()
    for _ in range(64):
        idle.put_nowait(await Client.open(port))
    load = Load([])

    async def one(n: int, due: float) -> None:
        client = await idle.get()
        load.count(await client.post(request_head(body, f"rate-{n}"), body))
        load.latencies.append((time.perf_counter() - due) * 1000)
        idle.put_nowait(client)

    begin = time.perf_counter()
    tasks = []
    for n in range(RATE * RATE_SECONDS):
        due = begin + n / RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    load.seconds = time.perf_counter() - begin
    while not idle.empty():
        idle.get_nowait().close()
    return load


async def saturate(port: int, body: bytes) -> Load:
    """``CONNECTIONS`` connections posting back to back for ``SATURATE_SECONDS``."""
    clients = [await Client.open(port) for _ in range(CONNECTIONS)]
    load = Load([])
    ids = count()
    begin = time.perf_counter()
    deadline = begin + SATURATE_SECONDS

    async def lane(client: Client) -> None:
        while time.perf_counter() < deadline:
            load.count(await client.post(request_head(body, f"sat-{next(ids)}"), body))

    await asyncio.gather(*(lane(c) for c in clients))
    load.seconds = time.perf_counter() - begin
    for client in clients:
        client.close()
    return load


async def burst(port: int, body: bytes) -> Load:
    """``BURST`` connections opened first, then every delivery written in one go."""
    clients = await asyncio.gather(*(Client.open(port) for _ in range(BURST)))
    heads = [request_head(body, f"burst-{n}") for n in range(BURST)]
    load = Load([])
    begin = time.perf_counter()
    for client, head in zip(clients, heads, strict=True):
        client.send(head, body)

    async def answer(client: Client) -> None:
        load.count(await client.status())
        load.latencies.append((time.perf_counter() - begin) * 1000)

    await asyncio.gather(*(answer(c) for c in clients))
    load.seconds = time.perf_counter() - begin
    for client in clients:
        client.close()
    return load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Queue:
    """One fresh queue: the environment that names it to the bot, and how many deliveries it
    holds."""

    env: dict[str, str]
    stored: Callable[[], int]


Fresh = Callable[[], AbstractContextManager[Queue]]


@contextmanager
def serving(queue: Queue) -> Iterator[int]:
    """A fresh bot on ``queue``; yields its port."""
    env = (
        os.environ
        | queue.env
        | {
            "PROMOTION_BOT_WEBHOOK_SECRET": SECRET,
            "PROMOTION_BOT_DEMO": "true",
            "PROMOTION_BOT_LOG_LEVEL": "INFO",
        }
    )
    port = free_port()
    serve = f"import asyncio, bench.bench_webhook_ack as b; asyncio.run(b.serve_bot({port}))"
    process = subprocess.Popen(
        [sys.executable, "-c", serve], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(400):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"bot did not start port={port}")
        yield port
    finally:
        process.terminate()
        process.wait(30)


def sqlite_stored(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        found: int = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        return found


def postgres_stored(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM promotion_deliveries").fetchone()
        return int(row[0]) if row else 0


@contextmanager
def sqlite_queues() -> Iterator[Fresh]:
    """New SQLite files in a temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = (Path(tmp) / f"queue-{n}.sqlite3" for n in count())

        @contextmanager
        def fresh() -> Iterator[Queue]:
            path = next(paths)
            yield Queue({"PROMOTION_BOT_QUEUE_PATH": str(path)}, lambda: sqlite_stored(path))

        yield fresh


@contextmanager
def postgres_queues() -> Iterator[Fresh]:
    """New migrated databases on one throwaway cluster (or ``tests/postgres.py``'s server)."""
    with server() as postgres:

        @contextmanager
        def fresh() -> Iterator[Queue]:
            with postgres.database(migrated=True) as url:
                yield Queue({"PROMOTION_BOT_DATABASE_URL": url}, lambda: postgres_stored(url))

        yield fresh


Driver = Callable[[int, bytes], Coroutine[Any, Any, Load]]
LOADS: dict[str, Driver] = {"rate": fixed_rate, "saturate": saturate, "burst": burst}
ENGINES: dict[str, Callable[[], AbstractContextManager[Fresh]]] = {
    "SQLite": sqlite_queues,
    "PostgreSQL": postgres_queues,
}


@dataclass
class Run:
    loads: dict[str, list[Load]]
    acknowledged: int = 0
    stored: int = 0


def run(queues: Fresh) -> Run:
    """Each load ``ROUNDS`` times, the loads taking turns, each on a fresh server and queue."""
    body = PAYLOAD.read_bytes()
    result = Run({name: [] for name in LOADS})
    for _ in range(ROUNDS):
        for name, drive in LOADS.items():
            with queues() as queue:
                with serving(queue) as port:
                    load = asyncio.run(drive(port, body))
                result.loads[name].append(load)
                result.acknowledged += load.acknowledged
                result.stored += queue.stored()
    return result


def run_engines() -> dict[str, Run]:
    """Every engine in ``ENGINES``, one after the other."""
    runs = {}
    for engine, queues in ENGINES.items():
        with queues() as fresh:
            runs[engine] = run(fresh)
    return runs


def median(loads: list[Load], figure: Callable[[Load], float]) -> tuple[float, str]:
    """The median of ``figure`` over the rounds, and all of them as text."""
    values = [figure(load) for load in loads]
    return statistics.median(values), ", ".join(
        f"{v:.0f}" if v >= 100 else f"{v:.1f}" for v in values
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


@dataclass(frozen=True)
class Figure:
    """A row of the table: the median over the rounds of ``value`` on one load, against a
    ``bound`` the median must stay under (or, with ``floor``, reach)."""

    name: str
    load: str
    value: Callable[[Load], float]
    bound: float
    unit: str
    digits: int
    floor: bool = False

    @property
    def goal(self) -> str:
        return f"{'>=' if self.floor else '<'} {self.bound:.0f}{self.unit}"

    def cell(self, result: Run) -> str:
        value, rounds = median(result.loads[self.load], self.value)
        met = value >= self.bound if self.floor else value < self.bound
        ratio = value / self.bound
        judged = f"{ratio:.2f}x the goal" if self.floor else f"{ratio:.2f} of the bound"
        return f"{value:.{self.digits}f}{self.unit} ({rounds}): **{verdict(met)}**, {judged}"


FIGURES = [
    Figure(
        f"p99 acknowledgement at {RATE} deliveries/s ({RATE_SECONDS} s)",
        "rate",
        Load.p99,
        GOAL_P99_MS,
        " ms",
        1,
    ),
    Figure(
        f"durable acknowledgements/s, saturated ({CONNECTIONS} connections, {SATURATE_SECONDS} s)",
        "saturate",
        lambda x: x.acknowledged / x.seconds,
        GOAL_RATE,
        "",
        0,
        floor=True,
    ),
    Figure(
        f"p99 acknowledgement of {BURST} deliveries sent at once, worker running",
        "burst",
        lambda x: x.p99() / 1000,
        GOAL_BURST_P99_S,
        " s",
        2,
    ),
]


def durable_cell(result: Run) -> str:
    durable = result.stored == result.acknowledged
    return f"{result.stored} stored of {result.acknowledged} acknowledged: **{verdict(durable)}**"


def report(runs: dict[str, Run], load_before: float) -> str:
    """The section; ``load_before``: the load average when the run began (the machine is
    shared, and its load moves the figures)."""
    engines = list(runs)
    rows = [
        "| each delivery committed before its 202 | every one | "
        + " | ".join(durable_cell(runs[e]) for e in engines)
        + " |",
        *(
            f"| {f.name} | {f.goal} | " + " | ".join(f.cell(runs[e]) for e in engines) + " |"
            for f in FIGURES
        ),
    ]
    tails = []
    for engine, result in runs.items():
        last, _ = median(result.loads["burst"], lambda x: x.seconds)
        errors = sum(load.errors for loads in result.loads.values() for load in loads)
        tails.append(
            f"{engine}: the burst's last answer after {last:.2f} s (median), "
            f"{errors} answers other than 202"
        )
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench webhook_ack` (`bench/bench_webhook_ack.py`), {os.cpu_count()} "
            f"CPUs shared with other work (load average {load_before:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end), "
            "loopback; the bot under uvicorn (`--loop asyncio`, no access log, JSON log lines "
            "at INFO) with its worker running, on SQLite (`synchronous=FULL`), then on "
            "PostgreSQL (a local cluster with `fsync` on, over its Unix socket); body: a real "
            f"`pull_request.opened` delivery ({PAYLOAD.stat().st_size} bytes). Each load on a "
            f"fresh server and a fresh queue (file or database), {ROUNDS} rounds; the figure is "
            "the median, the rounds in brackets.",
            "",
            "| figure | goal | " + " | ".join(engines) + " |",
            "|---|---|" + "---:|" * len(engines),
            *rows,
            "",
            "; ".join(tails) + ". Figures move with the machine's load: compare runs made back "
            "to back. The design, what was kept beyond a plain table and the measurements behind "
            "it: [ADR 0002](adr/0002-sqlite-job-table-and-postgresql.md#measurements).",
            "",
        ]
    )


def write_section(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, or append it; others stay."""
    text = text.rstrip("\n") + "\n\n"
    current = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text, current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    REPORT.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    load_before = os.getloadavg()[0]
    text = report(run_engines(), load_before)
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
