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

Two parts, joined here: ``sqlite_store.Database`` (the file, its thread, write transactions)
and ``job_table.JobTable`` (the jobs: enqueue, lease, settle, stats; the versions seen).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.job_table import JobTable, insert_jobs, versions_seen
from bot.adapters.sqlite_store import Database, insert_rows
from bot.services.ports import Delivery, EnqueueOutcome, Job, NewJob, QueueStats

log = logging.getLogger("bot.intake")
Accepting = tuple[Delivery, NewJob | None, "asyncio.Future[bool]"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def store_deliveries(
    conn: sqlite3.Connection, batch: list[tuple[Delivery, NewJob | None]], now: float
) -> list[bool]:
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
    insert_jobs(conn, jobs, now)
    return fresh


def read_delivery(conn: sqlite3.Connection, delivery_id: str) -> Delivery | None:
    row = conn.execute(
        "SELECT delivery_id, source, event, body, received_at, headers, status FROM deliveries "
        "WHERE delivery_id = ?",
        (delivery_id,),
    ).fetchone()
    if row is None:
        return None
    return Delivery(
        delivery_id=row[0],
        source=row[1],
        event=row[2],
        body=bytes(row[3]),
        received_at=datetime.fromtimestamp(row[4], UTC),
        headers=json.loads(row[5]),
        status=row[6],
    )


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
        clock: Callable[[], datetime] = _utcnow,
        reclaim_leases: bool = True,
    ) -> None:
        self.lease_term = lease
        self._db = Database(str(path), clock)
        self._jobs = JobTable(self._db, lease=lease)
        if reclaim_leases:
            self._db.run(self._jobs.reclaim)
        self._accepting: list[Accepting] = []
        self._committer: asyncio.Task[None] | None = None

    def close(self) -> None:
        """Close the file once every statement submitted before has run."""
        self._db.close()

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """Store ``delivery`` and its job in the next durable commit; ``False`` when its id is
        stored already."""
        accepted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._accepting.append((delivery, job, accepted))
        if self._committer is None:  # it starts next pass: this pass's deliveries go together
            self._committer = asyncio.create_task(self._commit_accepted())
        return await accepted

    async def _commit_accepted(self) -> None:
        """Commit what waits, one durable transaction at a time, until nothing waits."""
        try:
            while self._accepting:
                batch, self._accepting = self._accepting, []
                await self._commit(batch)
        finally:
            self._committer = None

    async def _commit(self, batch: list[Accepting]) -> None:
        pairs = [(delivery, job) for delivery, job, _ in batch]

        def store() -> list[bool]:
            return self._db.write(
                lambda c: store_deliveries(c, pairs, self._db.now()), durable=True
            )

        try:
            fresh = await self._db.call(store)
        except Exception as err:  # nothing of the batch is stored: each answer says so
            for *_, accepted in batch:
                if not accepted.done():
                    accepted.set_exception(err)
            return
        for (*_, accepted), new in zip(batch, fresh, strict=True):
            if not accepted.done():  # a request whose client went away is cancelled
                accepted.set_result(new)
        log_accepted([delivery for (delivery, _), new in zip(pairs, fresh, strict=True) if new])

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        return await self._db.call(read_delivery, self._db.conn, delivery_id)

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        return await self._db.call(self._jobs.enqueue, job)

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        """``VersionsSeen``: what the jobs enqueued so far have recorded."""
        return await self._db.call(versions_seen, self._db.conn, subjects)

    async def lease(self) -> Job | None:
        return await self._db.call(self._jobs.lease)

    async def extend_lease(self, job: Job) -> bool:
        return await self._db.call(self._jobs.extend_lease, job)

    async def complete(self, job: Job) -> None:
        await self._db.call(self._jobs.complete, job)

    async def fail(self, job: Job, *, error: str) -> None:
        await self._db.call(self._jobs.fail, job, error)

    async def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        await self._db.call(
            lambda: self._jobs.retry(
                job, after=after, error=error, throttle_installation=throttle_installation
            )
        )

    async def stats(self) -> QueueStats:
        return await self._db.call(self._jobs.stats)

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs, their dedupe keys and deliveries older than ``older_than``.

        Keep at least GitHub's redelivery window (3 days, 7 on GHES) so a redelivery still dedupes.
        """
        cutoff = self._db.now() - older_than.total_seconds()

        def run(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM deliveries WHERE received_at < ?", (cutoff,))
            return self._jobs.prune_in(conn, cutoff)

        return await self._db.call(self._db.write, run)
