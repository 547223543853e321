"""The ``JobQueue`` port on one SQLite file in WAL mode (see docs/adr/0001-durable-sqlite-queue.md).

All statements run on one dedicated thread, so the event loop never waits on disk and the
connection is never shared between threads. A delivery is made durable by the spool
(``bot.adapters.spool``: its body written once, fsync'd in groups) before it is acknowledged;
this queue then indexes spooled deliveries and creates their jobs in batches: when 20,000
wait, and before any read (lease, delivery, stats, prune), so every read sees every
acknowledged delivery. Every commit here uses ``synchronous=NORMAL``: WAL keeps commits in
order, and the last few lost on a power cut are either re-read from the spool or only run a
job again, which at-least-once allows.

Three parts, joined here: ``sqlite_store.Database`` (the file, its thread, write
transactions), ``delivery_index.DeliveryIndex`` (the spool, and the deliveries indexed from
it with their jobs; recovery after a crash) and ``job_table.JobTable`` (the jobs: enqueue,
lease, settle, stats; the versions seen). ``SqliteJobQueue`` is their async face.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from bot.adapters.delivery_index import DEDUPE_WINDOW, DeliveryIndex
from bot.adapters.job_table import JobTable, versions_seen
from bot.adapters.sqlite_store import Database
from bot.services.ports import Delivery, EnqueueOutcome, Job, NewJob, QueueStats

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqliteJobQueue:
    """A ``JobQueue`` on a SQLite file and its delivery spool (``<file>-spool``);
    ``reclaim_leases`` frees leases left by a dead process.

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
        dedupe_window: int = DEDUPE_WINDOW,
    ) -> None:
        self.lease_term = lease
        self._db = Database(str(path), clock)
        self._jobs = JobTable(self._db, lease=lease)
        if reclaim_leases:
            self._db.run(self._jobs.reclaim)
        self._deliveries = DeliveryIndex(self._db, dedupe_window=dedupe_window)

    def close(self) -> None:
        """Write what is waiting to the spool, index it, then close the file."""
        self._deliveries.close()
        self._db.close()

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the database thread once every spooled delivery is indexed: a read
        sees every acknowledged delivery."""

        def indexed() -> T:
            self._deliveries.index_spooled()
            return fn(*args)

        return await self._db.call(indexed)

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """Spool ``delivery`` durably; ``False``, at once, for an id in the dedupe window."""
        return await self._deliveries.accept(delivery, job)

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        return await self._read(self._deliveries.get, delivery_id)

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        return await self._db.call(self._jobs.enqueue, job)

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        """``VersionsSeen``: what the jobs enqueued so far have recorded."""
        return await self._db.call(lambda: versions_seen(self._db.conn, subjects))

    async def lease(self) -> Job | None:
        return await self._read(self._jobs.lease)

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
        return await self._read(self._jobs.stats)

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs, their dedupe keys and deliveries older than ``older_than``.

        Keep at least GitHub's redelivery window (3 days, 7 on GHES) so a redelivery still dedupes.
        """
        cutoff = self._db.now() - older_than.total_seconds()

        def run(conn: sqlite3.Connection) -> tuple[int, set[int]]:
            return self._jobs.prune_in(conn, cutoff), self._deliveries.prune_in(conn, cutoff)

        def prune_all() -> int:
            # Durable before any segment goes: a lost commit would re-read the spool from there.
            count, unused = self._db.write(run, durable=True)
            self._deliveries.spool.remove_segments(unused)
            return count

        return await self._read(prune_all)
