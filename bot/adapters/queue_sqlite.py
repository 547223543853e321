"""The ``JobQueue`` port on one SQLite file in WAL mode (see docs/adr/0001-durable-sqlite-queue.md).

All statements run on one dedicated thread, so the event loop never waits on disk and the
connection is never shared between threads. A delivery is made durable by the spool
(``bot.adapters.spool``: its body written once, fsync'd in groups) before it is acknowledged;
this queue then indexes spooled deliveries and creates their jobs in batches: when 20,000
wait, and before any read (lease, delivery, stats), so every read sees every acknowledged
delivery. Each index batch records how far into the spool it reached, in the same transaction;
at start-up whatever lies beyond is indexed again, so a crash loses nothing. Every commit here
uses ``synchronous=NORMAL``: WAL keeps commits in order, and the last few lost on a power cut
are either re-read from the spool or only run a job again, which at-least-once allows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from bot.adapters.delivery_entry import Entry, log_accepted
from bot.adapters.spool import Location, Position, Spool, read_records, segment_numbers
from bot.adapters.sqlite_store import (
    LEASE_QUERY,
    SPOOL_COLUMNS,
    DatabaseThread,
    insert_rows,
    migrate,
)
from bot.services.ports import Delivery, EnqueueOutcome, Job, JobKind, NewJob, QueueStats

T = TypeVar("T")
# Spooled deliveries wait to be indexed until something reads the queue (the worker leasing, a
# lookup, stats) or this many wait: under a burst, indexing competes with the answers for the
# interpreter, and the worker defers to them anyway. A waiting entry holds no body.
INDEX_BACKLOG = 20_000
DEDUPE_WINDOW = 100_000  # delivery ids remembered in memory to answer a redelivery at once
log = logging.getLogger("bot.intake")


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
        self._path = str(path)
        self._lease = lease
        self._clock = clock
        self._dedupe_window = dedupe_window
        self._recent: OrderedDict[str, None] = OrderedDict()  # the oldest id first
        self._lock = threading.Lock()
        self._unindexed: list[tuple[Entry, Location]] = []
        self._index_scheduled = False
        self._thread = DatabaseThread()
        self._conn = self._thread.submit(self._connect).result()
        if reclaim_leases:
            self._thread.submit(self._reclaim).result()
        self._spool = Spool[Entry](Path(self._path + "-spool"), self._spooled)
        self._thread.submit(self._recover).result()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        migrate(conn)
        return conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._thread.submit(lambda: fn(*args)))

    def _now(self) -> float:
        return self._clock().timestamp()

    def _write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = False) -> T:
        """Run ``fn`` in one write transaction, taken up front so two processes never deadlock;
        ``durable`` makes this commit, and every one before it, wait for the disk."""
        if durable:
            self._conn.execute("PRAGMA synchronous=FULL")
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        finally:
            if durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
        return result

    def close(self) -> None:
        """Write what is waiting to the spool, index it, then close the file."""
        self._spool.close()
        self._thread.submit(self._index_spooled).result()
        self._thread.submit(self._conn.close).result()
        self._thread.shutdown()

    def _reclaim(self) -> int:
        return self._write(
            lambda c: (
                c.execute(
                    "UPDATE jobs SET state = 'ready', leased_until = NULL, lease_token = NULL "
                    "WHERE state = 'leased'"
                ).rowcount
            )
        )

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """Spool ``delivery`` durably; ``False``, at once, for an id in the dedupe window.

        A redelivery older than the window is acknowledged like a new one and dropped when it
        is indexed: it never runs twice either way.
        """
        if delivery.delivery_id in self._recent:
            return False
        self._remember(delivery.delivery_id)
        try:
            entry = Entry.of(delivery, job)
            await self._spool.append(entry.encode(), delivery.body, entry)
        except Exception:  # not stored: GitHub's retry of it must be accepted
            self._recent.pop(delivery.delivery_id, None)
            raise
        return True

    def _remember(self, delivery_id: str) -> None:
        self._recent[delivery_id] = None
        if len(self._recent) > self._dedupe_window:
            self._recent.popitem(last=False)

    def _spooled(self, records: list[tuple[Entry, Location]]) -> None:
        """(The spool's thread.) A durable batch: indexed before the next read, or now when
        enough wait."""
        with self._lock:
            self._unindexed += records
            due = len(self._unindexed) >= INDEX_BACKLOG and not self._index_scheduled
            self._index_scheduled |= due
        if due:
            self._thread.submit(self._index_spooled)

    def _index_spooled(self) -> None:
        """Index every spooled delivery not indexed yet; on failure they wait for the next try."""
        with self._lock:
            batch, self._unindexed, self._index_scheduled = self._unindexed, [], False
        if not batch:
            return
        try:
            self._index(batch)
        except BaseException:
            with self._lock:
                self._unindexed[:0] = batch
            raise

    def _recover(self) -> None:
        """Index what the spool holds beyond the recorded position (a crash's leftovers), then
        remember the newest ids for the dedupe window."""
        row = self._conn.execute(
            "SELECT spool_segment, spool_offset FROM spool_position"
        ).fetchone()
        after = Position(*row) if row else Position()
        leftovers = [
            (Entry.decode(meta), location)
            for meta, location in read_records(self._spool.directory, after)
        ]
        if leftovers:
            log.info("indexing deliveries left in the spool count=%d", len(leftovers))
            self._index(leftovers)
        newest = self._conn.execute(
            "SELECT delivery_id FROM deliveries ORDER BY received_at DESC LIMIT ?",
            (self._dedupe_window,),
        ).fetchall()
        self._recent = OrderedDict.fromkeys(row[0] for row in reversed(newest))

    def _index(self, batch: list[tuple[Entry, Location]]) -> None:
        fresh = self._write(lambda c: self._insert(c, batch))
        log_accepted(fresh)
        if len(fresh) < len(batch):
            kept = {id(entry) for entry in fresh}
            dropped = sorted(entry.delivery_id for entry, _ in batch if id(entry) not in kept)
            log.warning(
                "dropped redeliveries older than the dedupe window: %s", ", ".join(dropped[:20])
            )

    def _insert(self, conn: sqlite3.Connection, batch: list[tuple[Entry, Location]]) -> list[Entry]:
        """Index the deliveries whose id is not stored yet, create their jobs and move the
        spool position past the batch; the entries that were new."""
        rows = [
            (*entry[:5], json.dumps(entry.headers), b"", *location) for entry, location in batch
        ]
        inserted = {
            row[0]
            for row in insert_rows(
                conn,
                "INSERT INTO deliveries (delivery_id, source, event, status, received_at, "
                f"headers, body, {', '.join(SPOOL_COLUMNS)}) VALUES ",
                rows,
                " ON CONFLICT (delivery_id) DO NOTHING RETURNING delivery_id",
            )
        }
        fresh: list[Entry] = []
        for entry, _ in batch:  # an id twice in one batch: its first record is the stored one
            if entry.delivery_id in inserted:
                inserted.discard(entry.delivery_id)
                fresh.append(entry)
        self._insert_jobs(conn, [entry.job for entry in fresh if entry.job is not None])
        end = max(location.end for _, location in batch)
        conn.execute(
            "INSERT INTO spool_position VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "spool_segment = excluded.spool_segment, spool_offset = excluded.spool_offset",
            end,
        )
        return fresh

    def _insert_jobs(self, conn: sqlite3.Connection, jobs: list[NewJob]) -> None:
        """Jobs without dedupe or coalesce keys in one statement, the others one by one."""
        now = self._now()
        plain: list[NewJob] = []
        keyed: list[NewJob] = []
        for job in jobs:
            (plain if job.dedupe_key is None and job.coalesce_key is None else keyed).append(job)
        insert_rows(
            conn,
            "INSERT INTO jobs (kind, payload, serial_key, installation_id, available_at, "
            "created_at, updated_at) VALUES ",
            [(j.kind, j.payload, j.serial_key, j.installation_id, now, now, now) for j in plain],
        )
        for job in keyed:
            self._enqueue_in(conn, job)

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        return await self._call(self._get_delivery, delivery_id)

    def _get_delivery(self, delivery_id: str) -> Delivery | None:
        self._index_spooled()
        row = self._conn.execute(
            "SELECT delivery_id, source, event, body, received_at, headers, status, "
            f"{', '.join(SPOOL_COLUMNS)} FROM deliveries WHERE delivery_id = ?",
            (delivery_id,),
        ).fetchone()
        if row is None:
            return None
        return Delivery(
            delivery_id=row[0],
            source=row[1],
            event=row[2],
            body=bytes(row[3]) if row[7] is None else self._spool.read_body(Location(*row[7:])),
            received_at=datetime.fromtimestamp(row[4], UTC),
            headers=json.loads(row[5]),
            status=row[6],
        )

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        return await self._call(lambda: self._write(lambda c: self._enqueue_in(c, job)))

    def _enqueue_in(self, conn: sqlite3.Connection, job: NewJob) -> EnqueueOutcome:
        now = self._now()
        if job.dedupe_key is not None:
            seen = conn.execute(
                "INSERT INTO job_keys VALUES (?, 0, ?) ON CONFLICT DO NOTHING",
                (job.dedupe_key, now),
            ).rowcount
            if not seen:
                return "duplicate"
        if job.coalesce_key is not None:
            merged = conn.execute(
                "UPDATE jobs SET payload = ?, merged = merged + 1, updated_at = ? "
                "WHERE id = (SELECT id FROM jobs WHERE coalesce_key = ? AND state = 'ready' "
                "AND attempts = 0 ORDER BY id LIMIT 1) RETURNING id",
                (job.payload, now, job.coalesce_key),
            ).fetchone()
            if merged is not None:
                self._link_key(conn, job.dedupe_key, merged[0])
                return "coalesced"
        job_id = conn.execute(
            "INSERT INTO jobs (kind, payload, dedupe_key, coalesce_key, serial_key, "
            "installation_id, available_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                job.kind,
                job.payload,
                job.dedupe_key,
                job.coalesce_key,
                job.serial_key,
                job.installation_id,
                now,
                now,
                now,
            ),
        ).fetchone()[0]
        self._link_key(conn, job.dedupe_key, job_id)
        return "enqueued"

    @staticmethod
    def _link_key(conn: sqlite3.Connection, dedupe_key: str | None, job_id: int) -> None:
        if dedupe_key is not None:
            conn.execute(
                "UPDATE job_keys SET job_id = ? WHERE dedupe_key = ?", (job_id, dedupe_key)
            )

    async def lease(self) -> Job | None:
        return await self._call(self._index_then_lease)

    def _index_then_lease(self) -> Job | None:
        self._index_spooled()
        return self._write(self._lease_in)

    def _lease_in(self, conn: sqlite3.Connection) -> Job | None:
        now = self._now()
        row = conn.execute(LEASE_QUERY, {"now": now}).fetchone()
        if row is None:
            return None
        token = secrets.token_hex(8)
        conn.execute(
            "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_token = ?, "
            "leased_until = ?, updated_at = ? WHERE id = ?",
            (token, now + self._lease.total_seconds(), now, row[0]),
        )
        return Job(
            id=row[0],
            kind=cast(JobKind, row[1]),
            payload=row[2],
            attempt=row[3] + 1,
            lease_token=token,
            merged=row[4],
            serial_key=row[5],
            installation_id=row[6],
            dedupe_key=row[7],
        )

    async def complete(self, job: Job) -> None:
        await self._finish(job, "state = 'done', last_error = NULL")

    async def fail(self, job: Job, *, error: str) -> None:
        await self._finish(job, "state = 'dead', last_error = ?", error)

    async def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        def run(conn: sqlite3.Connection) -> None:
            until = self._now() + after.total_seconds()
            if (
                self._release(
                    conn, job, "state = 'ready', last_error = ?, available_at = ?", error, until
                )
                and throttle_installation
                and job.installation_id
            ):
                conn.execute(
                    "INSERT INTO throttles VALUES (?, ?, ?) ON CONFLICT (installation_id) "
                    "DO UPDATE SET until = max(until, excluded.until), reason = excluded.reason",
                    (job.installation_id, until, error),
                )

        await self._call(lambda: self._write(run))

    async def _finish(self, job: Job, assignments: str, *args: Any) -> None:
        await self._call(lambda: self._write(lambda c: self._release(c, job, assignments, *args)))

    def _release(self, conn: sqlite3.Connection, job: Job, assignments: str, *args: Any) -> bool:
        """Apply ``assignments`` if ``job`` still holds its lease; a lost lease changes nothing."""
        return bool(
            conn.execute(
                f"UPDATE jobs SET {assignments}, leased_until = NULL, lease_token = NULL, "
                "updated_at = ? WHERE id = ? AND lease_token = ?",
                (*args, self._now(), job.id, job.lease_token),
            ).rowcount
        )

    async def stats(self) -> QueueStats:
        return await self._call(self._stats)

    def _stats(self) -> QueueStats:
        self._index_spooled()
        counts = dict(self._conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"))
        deliveries = self._conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        now = self._now()
        # Due, unleased jobs only: a job waiting out its backoff is not late yet.
        oldest = self._conn.execute(
            "SELECT min(available_at) FROM jobs WHERE state = 'ready' AND available_at <= ?",
            (now,),
        ).fetchone()[0]
        return QueueStats(
            ready=counts.get("ready", 0),
            leased=counts.get("leased", 0),
            done=counts.get("done", 0),
            dead=counts.get("dead", 0),
            deliveries=deliveries,
            oldest_ready_age=0.0 if oldest is None else now - oldest,
        )

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs, their dedupe keys and deliveries older than ``older_than``.

        Keep at least GitHub's redelivery window (3 days, 7 on GHES) so a redelivery still dedupes.
        """
        cutoff = self._now() - older_than.total_seconds()

        def run(conn: sqlite3.Connection) -> tuple[int, set[int]]:
            conn.execute("DELETE FROM job_keys WHERE created_at < ?", (cutoff,))
            conn.execute("DELETE FROM deliveries WHERE received_at < ?", (cutoff,))
            conn.execute("DELETE FROM throttles WHERE until < ?", (cutoff,))
            count = conn.execute(
                "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", (cutoff,)
            ).rowcount
            # Segments before the indexed position that no remaining delivery points into.
            position = conn.execute("SELECT spool_segment FROM spool_position").fetchone()
            used = conn.execute(
                "SELECT DISTINCT spool_segment FROM deliveries WHERE spool_segment IS NOT NULL"
            ).fetchall()
            indexed = {
                n for n in segment_numbers(self._spool.directory) if position and n < position[0]
            }
            return count, indexed - {row[0] for row in used}

        def prune_all() -> int:
            self._index_spooled()
            # Durable before any segment goes: a lost commit would re-read the spool from there.
            count, unused = self._write(run, durable=True)
            self._spool.remove_segments(unused)
            return count

        return await self._call(prune_all)
