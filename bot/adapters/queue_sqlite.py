"""The ``JobQueue`` port on one SQLite file in WAL mode (see
docs/adr/0002-sqlite-job-table-and-postgresql.md).

Every statement runs on one dedicated thread (``sqlite_store.Database``), so the event loop
never waits on disk and the connection is never shared between threads. A delivery, body and
job included, is committed with ``synchronous=FULL`` before ``accept_delivery`` returns; the
deliveries that arrive while a commit runs wait and go in the next one together (group
commit), so one fsync acknowledges a burst. Every other commit (leases, settling, enqueueing
events) uses ``synchronous=NORMAL``: WAL keeps commits in order, so the next durable commit
carries them to disk, and losing the last few on a power cut only runs a job again, which
at-least-once allows.

Three parts, joined here: ``sqlite_store.Database`` (the file, its thread, write transactions),
``job_table`` (the jobs: enqueue, lease, settle, stats; the versions seen) and the deliveries.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters import job_table
from bot.adapters.group_commit import GroupCommit
from bot.adapters.sqlite_store import Database, insert_rows
from bot.services.ports import Delivery, EnqueueOutcome, Job, NewJob, QueueStats

log = logging.getLogger("bot.intake")
Accepted = tuple[Delivery, NewJob | None]


def store_deliveries(conn: sqlite3.Connection, now: float, batch: list[Accepted]) -> list[bool]:
    """Insert the deliveries whose id is not stored yet, with their jobs; whether each was new
    (an id twice in one batch: its first)."""
    rows = [
        (
            d.delivery_id,
            d.source,
            d.event,
            d.status,
            d.received_at.timestamp(),
            json.dumps(d.headers),
            d.body,
        )
        for d, _ in batch
    ]
    inserted = {
        row[0]
        for row in insert_rows(
            conn,
            "INSERT INTO deliveries (delivery_id, source, event, status, received_at, headers, "
            "body) VALUES ",
            rows,
            " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id",
        )
    }
    fresh = []
    for delivery, _ in batch:
        fresh.append(delivery.delivery_id in inserted)
        inserted.discard(delivery.delivery_id)
    jobs = [job for (_, job), new in zip(batch, fresh, strict=True) if new and job is not None]
    job_table.insert_jobs(conn, now, jobs)
    return fresh


def read_delivery(conn: sqlite3.Connection, delivery_id: str) -> Delivery | None:
    row = conn.execute(
        "SELECT delivery_id, source, event, body, received_at, headers, status FROM deliveries "
        "WHERE delivery_id = ?",
        (delivery_id,),
    ).fetchone()
    if row is None:
        return None
    received_at, headers = datetime.fromtimestamp(row[4], UTC), json.loads(row[5])
    return Delivery(row[0], row[1], row[2], bytes(row[3]), received_at, headers, row[6])


def log_accepted(deliveries: list[Delivery]) -> None:
    """A line per delivery alone, a line per commit under a burst: the worker logs each
    delivery again as it translates it."""
    if len(deliveries) == 1:
        [d] = deliveries
        context = {"delivery_id": d.delivery_id, "event": d.event}
        log.info("accepted delivery source=%s status=%s", d.source, d.status, extra=context)
    elif deliveries:
        first, last = deliveries[0].delivery_id, deliveries[-1].delivery_id
        log.info("accepted deliveries count=%d first=%s last=%s", len(deliveries), first, last)


class SqliteJobQueue:
    """A ``JobQueue`` on a SQLite file; ``reclaim_leases`` frees leases left by a dead process.

    The SQLite backend serves one worker process (``promotion-bot serve``), so leases found at
    start-up belong to a process that is gone.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        lease: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        reclaim_leases: bool = True,
    ) -> None:
        self.lease_term = lease
        self._term = lease.total_seconds()
        self._db = Database(str(path), clock)
        if reclaim_leases:
            self._db.run(lambda: self._db.transact(job_table.reclaim))
        self._accepted = GroupCommit(self._store, writers=1)  # one connection: one at a time

    def close(self) -> None:
        """Close the file once every statement submitted before has run."""
        self._db.close()

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """In the next durable commit, with the others waiting for it (``group_commit``)."""
        return await self._accepted.submit((delivery, job))

    async def _store(self, batch: list[Accepted]) -> list[bool]:
        fresh = await self._db.write(store_deliveries, batch, durable=True)
        log_accepted([delivery for (delivery, _), new in zip(batch, fresh, strict=True) if new])
        return fresh

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        return await self._db.read(read_delivery, delivery_id)

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        return await self._db.write(job_table.insert_job, job)

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        """``VersionsSeen``: what the jobs enqueued so far have recorded."""
        return await self._db.read(job_table.versions_seen, subjects)

    async def lease(self) -> Job | None:
        return await self._db.write(job_table.lease, self._term)

    async def extend_lease(self, job: Job) -> bool:
        return await self._db.write(job_table.extend_lease, job, self._term)

    async def complete(self, job: Job) -> None:
        await self._db.write(job_table.release, job, "state = 'done', last_error = NULL")

    async def fail(self, job: Job, *, error: str) -> None:
        await self._db.write(job_table.release, job, "state = 'dead', last_error = ?", error)

    async def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        throttle = throttle_installation
        await self._db.write(job_table.retry, job, after, error=error, throttle=throttle)

    async def stats(self) -> QueueStats:
        return await self._db.read(lambda conn: job_table.stats(conn, self._db.now()))

    async def prune(self, older_than: timedelta) -> int:
        return await self._db.write(job_table.prune, older_than.total_seconds())
