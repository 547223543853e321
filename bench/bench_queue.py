"""The job queue's two engines at the port (``JobQueue``), in one run: durable acknowledgements
and jobs per second.

- Accepts: ``CALLERS`` concurrent callers each store deliveries with their job through
  ``accept_delivery`` (a real 28 kB ``pull_request.opened`` body, a fresh delivery id each),
  ``ACCEPTS`` in all; each call returns once the delivery is durable (SQLite: the spool's
  fdatasync; PostgreSQL: the commit, ``synchronous_commit`` on).
- Jobs: ``JOBS`` trivial jobs spread over ``SERIAL_KEYS`` serial keys are enqueued, then 1, 2
  and 4 consumers, each a queue instance of its own (a replica), lease and complete them until
  none is left; on SQLite, which one process consumes, 1 consumer.

PostgreSQL is ``$PROMOTION_BOT_TEST_DATABASE_URL`` or a throwaway cluster (fsync on) started as
the tests start it. The figures go to the "Job queue engines" section of docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import psycopg

from bot.adapters.queue_postgres import PostgresJobQueue
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.services.ports import Delivery, NewJob
from bot.settings import GITHUB_MAX_BODY_BYTES
from tests.postgres import server

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests/data/webhooks-intake/api.github.com/pull_request/opened.payload.json"
REPORT = ROOT / "docs" / "benchmarks.md"
HEADING = "## Job queue engines"
ACCEPTS, CALLERS = 4000, 64
JOBS, SERIAL_KEYS = 2000, 50
CONSUMERS = (1, 2, 4)
GOAL_ACCEPTS = 1000.0

Queue = SqliteJobQueue | PostgresJobQueue
Opener = Callable[[], Awaitable[Queue]]
Settle = Callable[[], Awaitable[None]]
_ids = count()


async def close(queue: Queue) -> None:
    if isinstance(queue, PostgresJobQueue):
        await queue.close()
    else:
        queue.close()


async def accepts_per_second(queue: Queue, body: bytes) -> float:
    """Durable ``accept_delivery`` calls per second from ``CALLERS`` concurrent callers."""
    assert len(body) < GITHUB_MAX_BODY_BYTES
    per_caller = ACCEPTS // CALLERS

    async def caller() -> None:
        for _ in range(per_caller):
            delivery_id = f"bench-{next(_ids)}"
            delivery = Delivery(
                delivery_id=delivery_id,
                source="github",
                event="pull_request",
                body=body,
                received_at=datetime.now(UTC),
                headers={"x-github-event": "pull_request"},
            )
            job = NewJob(kind="delivery", payload=f'{{"delivery_id": "{delivery_id}"}}')
            assert await queue.accept_delivery(delivery, job)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return per_caller * CALLERS / (time.perf_counter() - started)


async def jobs_per_second(opener: Opener, consumers: int, settle: Settle) -> float:
    """Trivial jobs leased and completed per second by ``consumers`` queue instances, once
    ``settle`` has run after the enqueueing."""
    async with AsyncExitStack() as stack:
        queues = []
        for _ in range(consumers):
            queue = await opener()
            stack.push_async_callback(close, queue)
            queues.append(queue)
        for n in range(JOBS):
            await queues[0].enqueue(
                NewJob(kind="event", payload="{}", serial_key=f"repo-{n % SERIAL_KEYS}")
            )
        await settle()
        done = 0

        async def consume(queue: Queue) -> None:
            nonlocal done
            idle = 0
            while done < JOBS and idle < 200:
                job = await queue.lease()
                if job is None:
                    idle += 1
                    await asyncio.sleep(0.005)
                    continue
                idle = 0
                await queue.complete(job)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(consume(q) for q in queues))
        elapsed = time.perf_counter() - started
        assert done == JOBS, f"only {done} of {JOBS} jobs ran"
        return JOBS / elapsed


@asynccontextmanager
async def sqlite_store() -> AsyncIterator[tuple[Opener, Settle]]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "queue.sqlite3"
        opened = count()

        async def opener() -> Queue:
            return SqliteJobQueue(path, reclaim_leases=next(opened) == 0)

        async def settle() -> None:
            pass

        yield opener, settle


@asynccontextmanager
async def postgres_store(url: str) -> AsyncIterator[tuple[Opener, Settle]]:
    async def opener() -> Queue:
        return await PostgresJobQueue.open(url, lease=timedelta(minutes=5), pool_size=CALLERS)

    async def settle() -> None:
        """What autovacuum does within a minute of a burst: without statistics the planner
        runs procrastinate's fetch over every waiting job (38 ms at 2,000) instead of the
        first few in its index."""
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute("ANALYZE procrastinate_jobs")

    yield opener, settle


async def measure() -> dict[str, float]:
    body = PAYLOAD.read_bytes()
    figures: dict[str, float] = {"body": float(len(body))}
    with server() as postgres:
        for engine in ("sqlite", "postgres"):
            for consumers in CONSUMERS if engine == "postgres" else (1,):
                with postgres.database(migrated=True) as url:
                    store = sqlite_store() if engine == "sqlite" else postgres_store(url)
                    async with store as (opener, settle):
                        figures[f"{engine} jobs {consumers}"] = await jobs_per_second(
                            opener, consumers, settle
                        )
            with postgres.database(migrated=True) as url:
                store = sqlite_store() if engine == "sqlite" else postgres_store(url)
                async with store as (opener, _):
                    queue = await opener()
                    try:
                        figures[f"{engine} accepts"] = await accepts_per_second(queue, body)
                    finally:
                        await close(queue)
    figures["load"] = os.getloadavg()[0]
    return figures


def report(figures: dict[str, float]) -> str:
    pg1 = figures["postgres jobs 1"]
    rows = [
        f"| SQLite | {figures['sqlite accepts']:.0f} | {figures['sqlite jobs 1']:.0f} | - | - |",
        f"| PostgreSQL | {figures['postgres accepts']:.0f} | {pg1:.0f} | "
        f"{figures['postgres jobs 2']:.0f} | {figures['postgres jobs 4']:.0f} |",
    ]
    met = all(figures[f"{e} accepts"] >= GOAL_ACCEPTS for e in ("sqlite", "postgres"))
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m bench.bench_queue`, {os.cpu_count()} CPUs (load average "
            f"{figures['load']:.1f} at the end of the run), one run, at the port "
            f"(`JobQueue`), PostgreSQL 15 on a Unix socket with fsync on. Accepts: {CALLERS} "
            f"concurrent callers store {ACCEPTS} deliveries (a real `pull_request.opened` body, "
            f"{figures['body']:.0f} bytes) with their job, each call returning once durable. "
            f"Jobs: {JOBS} trivial jobs over {SERIAL_KEYS} serial keys, leased and completed by "
            "1, 2 or 4 consumers, each a queue instance of its own (a replica); SQLite is "
            "consumed by one process.",
            "",
            "| engine | durable accepts/s | jobs/s, 1 consumer | 2 consumers | 4 consumers |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            "Ratios from this run: PostgreSQL with 2 consumers "
            f"{figures['postgres jobs 2'] / pg1:.2f}x and with 4 "
            f"{figures['postgres jobs 4'] / pg1:.2f}x its 1-consumer rate; PostgreSQL "
            f"with 1 consumer {pg1 / figures['sqlite jobs 1']:.2f}x SQLite's. Durable accepts "
            f">= {GOAL_ACCEPTS:.0f}/s on each engine: {'met' if met else 'not met'}.",
            "",
            "What each costs on PostgreSQL. An accept is its share of one transaction per "
            "batch of the deliveries waiting (the body lz4-compressed into its row, the job "
            "deferred through procrastinate) and of that transaction's WAL flush. A job is a "
            "lease transaction (fetch, then claim) and one statement to settle it, each a round "
            "trip to the server, committed without waiting for the disk; SQLite's statements "
            "run in the process, with no server to reach. The consumers and the server share "
            "the machine's CPUs (with other work: see the load average), and jobs of one "
            "serial key run one at a time, so a consumer added adds less than its share; "
            "figures from runs at another load differ.",
        ]
    )


def write_section(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or append it)."""
    current = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    REPORT.write_text(updated.rstrip("\n") + "\n")


def main() -> None:
    text = report(asyncio.run(measure()))
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
