"""How fast the bot acknowledges webhooks, each delivery durable before its 202.

The bot is the real thing under uvicorn, as ``promotion-bot serve`` runs it, in its own process
on loopback: the FastAPI route checks the signature and stores the delivery with its job in
SQLite, committed with ``synchronous=FULL`` before the answer, and the worker runs in the same
process, translating deliveries as they come. The body is a real 28 kB ``pull_request.opened``
delivery, each request with its own delivery id. A small client on raw sockets drives three
loads, each on a fresh server (so no load inherits the last one's backlog), ``ROUNDS`` times:

- a fixed ``RATE`` deliveries/s for ``RATE_SECONDS``: p99 of the acknowledgement, timed from
  when each request was due (a slow answer never delays the next request's clock);
- ``CONNECTIONS`` connections posting back to back for ``SATURATE_SECONDS``: 202s per second;
- ``BURST`` connections opened first, then every request written at once: p99 of the time from
  the first write to each answer, while the worker works on the deliveries already stored.

After each run the queue file is read: every acknowledged delivery must be in it. The figures
go to the "Webhook acknowledgement" section of docs/benchmarks.md.
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
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.entrypoints.routing import JobProcessor, Router
from bot.entrypoints.web import create_app
from bot.entrypoints.webhooks import sign
from bot.logs import configure_logging
from bot.settings import load_settings

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


def bot_app() -> FastAPI:
    """The app ``promotion-bot serve`` runs, worker included, on a throwaway queue."""
    settings = load_settings()
    configure_logging(settings.log_level)
    queue = SqliteJobQueue(settings.queue_path)
    worker = Worker(queue, JobProcessor(queue, Router({})), concurrency=settings.workers)
    return create_app(settings, queue, worker)


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


@contextmanager
def serving(queue: Path) -> Iterator[int]:
    """A fresh bot on its own new queue file; yields its port."""
    env = os.environ | {
        "PROMOTION_BOT_WEBHOOK_SECRET": SECRET,
        "PROMOTION_BOT_DEMO": "true",
        "PROMOTION_BOT_QUEUE_PATH": str(queue),
        "PROMOTION_BOT_LOG_LEVEL": "INFO",
    }
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bench_webhook_ack:bot_app", "--factory"]
    command += ["--port", str(port), "--loop", "asyncio", "--no-access-log"]
    command += ["--log-level", "warning", "--backlog", str(2 * BURST)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
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


def stored(queue: Path) -> int:
    with sqlite3.connect(queue) as conn:
        found: int = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        return found


Driver = Callable[[int, bytes], Coroutine[Any, Any, Load]]
LOADS: dict[str, Driver] = {"rate": fixed_rate, "saturate": saturate, "burst": burst}


@dataclass
class Run:
    loads: dict[str, list[Load]]
    acknowledged: int = 0
    stored: int = 0


def run() -> Run:
    """Each load ``ROUNDS`` times, the loads taking turns, each on a fresh server."""
    body = PAYLOAD.read_bytes()
    result = Run({name: [] for name in LOADS})
    with tempfile.TemporaryDirectory() as tmp:
        queues = (Path(tmp) / f"queue-{n}.sqlite3" for n in count())
        for _ in range(ROUNDS):
            for name, drive in LOADS.items():
                queue = next(queues)
                with serving(queue) as port:
                    load = asyncio.run(drive(port, body))
                result.loads[name].append(load)
                result.acknowledged += load.acknowledged
                result.stored += stored(queue)
    return result


def median(loads: list[Load], figure: Callable[[Load], float]) -> tuple[float, str]:
    """The median of ``figure`` over the rounds, and all of them as text."""
    values = [figure(load) for load in loads]
    return statistics.median(values), ", ".join(
        f"{v:.0f}" if v >= 100 else f"{v:.1f}" for v in values
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(result: Run) -> str:
    rate, rates = median(result.loads["rate"], Load.p99)
    acks, ackss = median(result.loads["saturate"], lambda x: x.acknowledged / x.seconds)
    burst_p99, bursts = median(result.loads["burst"], lambda x: x.p99() / 1000)
    burst_last, _ = median(result.loads["burst"], lambda x: x.seconds)
    errors = sum(load.errors for loads in result.loads.values() for load in loads)
    durable = result.stored == result.acknowledged
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench webhook_ack` (`bench/bench_webhook_ack.py`), {os.cpu_count()} "
            f"CPUs shared with other work (load average {os.getloadavg()[0]:.1f} at the end), "
            "loopback; the bot under uvicorn (`--loop asyncio`, no access log, JSON log lines "
            "at INFO) with its worker running; body: a real `pull_request.opened` delivery "
            f"({PAYLOAD.stat().st_size} bytes). Each load on a fresh server, {ROUNDS} rounds; "
            "the figure is the median, the rounds in brackets.",
            "",
            "| figure | goal | measured | |",
            "|---|---|---:|---|",
            f"| each delivery committed with `synchronous=FULL` before its 202 | every one "
            f"| {result.stored} stored of {result.acknowledged} acknowledged | "
            f"**{verdict(durable)}** |",
            f"| p99 acknowledgement at {RATE} deliveries/s ({RATE_SECONDS} s) "
            f"| < {GOAL_P99_MS:.0f} ms | {rate:.1f} ms ({rates}) "
            f"| **{verdict(rate < GOAL_P99_MS)}**: {rate / GOAL_P99_MS:.2f} of the bound |",
            f"| durable acknowledgements/s, saturated ({CONNECTIONS} connections, "
            f"{SATURATE_SECONDS} s) | >= {GOAL_RATE:.0f} | {acks:.0f} ({ackss}) "
            f"| **{verdict(acks >= GOAL_RATE)}**: {acks / GOAL_RATE:.2f}x the goal |",
            f"| p99 acknowledgement of {BURST} deliveries sent at once, worker running "
            f"| < {GOAL_BURST_P99_S:.0f} s | {burst_p99:.2f} s ({bursts}) "
            f"| **{verdict(burst_p99 < GOAL_BURST_P99_S)}**: "
            f"{burst_p99 / GOAL_BURST_P99_S:.2f} of the bound |",
            "",
            f"The last of the burst's answers came after {burst_last:.2f} s (median). Answers "
            f"other than 202 over the whole run: {errors}. Figures move with the machine's "
            "load: compare runs made back to back. The design, what was kept beyond a plain "
            "table and the measurements behind it: "
            "[ADR 0002](adr/0002-sqlite-job-table-and-postgresql.md#measurements).",
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
    text = report(run())
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
