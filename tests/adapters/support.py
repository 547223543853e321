"""Helpers shared by the adapter and entrypoint tests: a clock the test moves by hand, a worker
run until the queue is idle, and the dead-lettered jobs read from a queue's SQLite file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.worker import Worker


class FakeClock:
    """A clock that stands still until ``advance`` is called."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def drain(worker: Worker, limit: int = 10_000) -> int:
    """Run jobs until none is runnable (or ``limit`` ran); the count that ran."""
    ran = 0
    while ran < limit and await worker.run_once():
        ran += 1
    return ran


def dead_jobs(db: Path | str) -> list[tuple[int, str, str]]:
    """``(id, kind, last_error)`` of every dead-lettered job in the queue file ``db``, read on a
    connection of its own: in WAL mode it sees every commit the queue made."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT id, kind, last_error FROM jobs WHERE state = 'dead' ORDER BY id"
        ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]
