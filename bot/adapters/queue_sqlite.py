"""The ``JobQueue`` port on one SQLite file in WAL mode (see docs/adr/0001-durable-sqlite-queue.md).

All statements run on one dedicated thread, so the event loop never waits on disk and the
connection is never shared between threads. Deliveries commit with ``synchronous=FULL`` (an
fsync): an acknowledged delivery survives a crash or a power cut. Deliveries that arrive while
the thread is busy are committed together (group commit), so one fsync acknowledges many.
Job state changes commit with ``synchronous=NORMAL``: WAL keeps them in order, and losing the
last few on a power cut only runs a job again, which at-least-once allows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import secrets
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from bot.services.ports import Delivery, EnqueueOutcome, Job, JobKind, NewJob, QueueStats

T = TypeVar("T")
_MAX_VARIABLES = 999  # host parameters per statement: SQLite's smallest limit (before 3.32)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    event TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at REAL NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT,
    coalesce_key TEXT,
    serial_key TEXT,
    installation_id INTEGER,
    state TEXT NOT NULL DEFAULT 'ready',
    attempts INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 1,
    available_at REAL NOT NULL,
    leased_until REAL,
    lease_token TEXT,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_open ON jobs (id) WHERE state IN ('ready', 'leased');
CREATE INDEX IF NOT EXISTS jobs_serial ON jobs (serial_key, state);
CREATE INDEX IF NOT EXISTS jobs_coalesce ON jobs (coalesce_key, state);
CREATE TABLE IF NOT EXISTS job_keys (
    dedupe_key TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS throttles (
    installation_id INTEGER PRIMARY KEY,
    until REAL NOT NULL,
    reason TEXT NOT NULL
);
"""

# A job may run when it is due, nobody holds a live lease on its serial key and its
# installation is not throttled. An expired lease counts as released (the holder crashed).
# Oldest first, so events of one repository run in the order they arrived.
_LEASE_QUERY = """
SELECT id, kind, payload, attempts, merged, serial_key, installation_id, dedupe_key FROM jobs j
WHERE j.state IN ('ready', 'leased')
  AND (j.state = 'ready' OR j.leased_until <= :now)
  AND j.available_at <= :now
  AND (j.serial_key IS NULL OR NOT EXISTS (
        SELECT 1 FROM jobs o WHERE o.serial_key = j.serial_key AND o.id != j.id
          AND o.state = 'leased' AND o.leased_until > :now))
  AND (j.installation_id IS NULL OR NOT EXISTS (
        SELECT 1 FROM throttles t WHERE t.installation_id = j.installation_id
          AND t.until > :now))
ORDER BY j.id
LIMIT 1
"""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _insert_rows(conn: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """``insert`` (ending in ``VALUES``) of all ``rows`` in as few statements as the variable
    limit allows. One statement per row (``executemany``) would hand the GIL to the event loop
    and wait to get it back once per row."""
    if not rows:
        return
    row_marks = f"({_marks(list(rows[0]))})"
    for chunk in _chunks(rows, _MAX_VARIABLES // len(rows[0])):
        conn.execute(insert + ",".join([row_marks] * len(chunk)), [v for row in chunk for v in row])


def _settle_all(outcomes: list[tuple[asyncio.Future[bool], bool | None, Exception | None]]) -> None:
    """Resolve futures from the database thread: one wake-up per event loop, not per future."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].get_loop(), []).append(outcome)
    for loop, group in by_loop.items():
        loop.call_soon_threadsafe(_settle, group)


def _settle(outcomes: list[tuple[asyncio.Future[bool], bool | None, Exception | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():  # the request went away; the delivery is stored all the same
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(bool(result))


def _STOP() -> None:
    """The last call a ``_DatabaseThread`` runs."""


class _DatabaseThread:
    """One thread that runs submitted calls, most urgent first (0 before 1), FIFO within one
    urgency: acknowledgements never wait behind the worker's bookkeeping."""

    def __init__(self) -> None:
        self._calls: queue.PriorityQueue[tuple[int, int, Callable[[], Any], Future[Any]]]
        self._calls = queue.PriorityQueue()
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._run, name="sqlite-queue", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T], urgency: int = 1) -> Future[T]:
        future: Future[T] = Future()
        self._calls.put((urgency, next(self._order), fn, future))
        return future

    def _run(self) -> None:
        while True:
            _, _, fn, future = self._calls.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as err:  # handed to the caller, who raises it
                    future.set_exception(err)
            if fn is _STOP:
                return

    def shutdown(self) -> None:
        """Run every pending call, then end the thread."""
        self.submit(_STOP, urgency=2).result()
        self._thread.join()


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
        self._path = str(path)
        self._lease = lease
        self._clock = clock
        self._thread = _DatabaseThread()
        self._lock = threading.Lock()
        self._pending: list[tuple[Delivery, NewJob | None, asyncio.Future[bool]]] = []
        self._flush_scheduled = False
        self._durable = False
        self._conn = self._thread.submit(self._connect).result()
        if reclaim_leases:
            self._thread.submit(self._reclaim).result()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(_SCHEMA)
        return conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self._thread.submit(lambda: fn(*args)))

    def _now(self) -> float:
        return self._clock().timestamp()

    def _write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = False) -> T:
        """Run ``fn`` in one write transaction, taken up front so two processes never deadlock;
        ``durable`` makes the commit wait for the disk."""
        if durable != self._durable:  # a statement less while a burst of deliveries commits
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._durable = durable
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(self._conn)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return result

    def close(self) -> None:
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
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            self._pending.append((delivery, job, accepted))
            schedule, self._flush_scheduled = not self._flush_scheduled, True
        if schedule:
            self._thread.submit(self._flush_deliveries, urgency=0)
        return await accepted

    def _flush_deliveries(self) -> None:
        """Commit every delivery waiting now in one durable transaction, then answer each.

        A few statements per batch rather than per delivery: each statement hands the GIL back
        and forth with the event loop, which is busy hashing and parsing the next requests.
        """
        with self._lock:
            batch, self._pending, self._flush_scheduled = self._pending, [], False
        try:
            results = self._commit(batch)
        except Exception as err:
            _settle_all([(future, None, err) for _, _, future in batch])
            return
        _settle_all(
            [(future, new, None) for (_, _, future), new in zip(batch, results, strict=True)]
        )

    def _commit(self, batch: Sequence[tuple[Delivery, NewJob | None, Any]]) -> list[bool]:
        """Store the batch in one durable transaction; whether each delivery was new.

        Optimistic: the whole batch goes in with one INSERT, as nearly always every id is new.
        A redelivery makes it fail on the primary key; the transaction is then redone knowing
        which ids are stored already.
        """
        try:
            return self._write(lambda c: self._insert(c, batch, seen=set()), durable=True)
        except sqlite3.IntegrityError:
            return self._write(lambda c: self._insert(c, batch, seen=None), durable=True)

    def _insert(
        self,
        conn: sqlite3.Connection,
        batch: Sequence[tuple[Delivery, NewJob | None, Any]],
        seen: set[str] | None,
    ) -> list[bool]:
        """Insert the deliveries whose id is not stored yet, and their jobs; ``seen=None``
        reads which ids are stored first."""
        if seen is None:
            seen = self._stored_ids(conn, [delivery.delivery_id for delivery, _, _ in batch])
        fresh: list[tuple[Delivery, NewJob | None]] = []
        results = []
        for delivery, job, _ in batch:
            results.append(delivery.delivery_id not in seen)
            if results[-1]:
                seen.add(delivery.delivery_id)
                fresh.append((delivery, job))
        _insert_rows(
            conn,
            "INSERT INTO deliveries VALUES ",
            [
                (
                    d.delivery_id,
                    d.source,
                    d.event,
                    d.status,
                    d.received_at.timestamp(),
                    json.dumps(d.headers),
                    d.body,
                )
                for d, _ in fresh
            ],
        )
        self._insert_jobs(conn, [job for _, job in fresh if job is not None])
        return results

    @staticmethod
    def _stored_ids(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
        seen: set[str] = set()
        for chunk in _chunks(ids, _MAX_VARIABLES):
            query = f"SELECT delivery_id FROM deliveries WHERE delivery_id IN ({_marks(chunk)})"
            seen.update(row[0] for row in conn.execute(query, chunk))
        return seen

    def _insert_jobs(self, conn: sqlite3.Connection, jobs: list[NewJob]) -> None:
        """Jobs without dedupe or coalesce keys in one statement, the others one by one."""
        now = self._now()
        plain: list[NewJob] = []
        keyed: list[NewJob] = []
        for job in jobs:
            (plain if job.dedupe_key is None and job.coalesce_key is None else keyed).append(job)
        _insert_rows(
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
        row = self._conn.execute(
            "SELECT delivery_id, source, event, body, received_at, headers, status "
            "FROM deliveries WHERE delivery_id = ?",
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
        return await self._call(lambda: self._write(self._lease_in))

    def _lease_in(self, conn: sqlite3.Connection) -> Job | None:
        now = self._now()
        row = conn.execute(_LEASE_QUERY, {"now": now}).fetchone()
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

    async def dead_jobs(self) -> list[tuple[int, str, str]]:
        """``(id, kind, last_error)`` of every dead-lettered job, for operators and tests."""
        return await self._call(
            lambda: [
                (r[0], r[1], r[2])
                for r in self._conn.execute(
                    "SELECT id, kind, last_error FROM jobs WHERE state = 'dead' ORDER BY id"
                )
            ]
        )

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs, their dedupe keys and deliveries older than ``older_than``.

        Keep at least GitHub's redelivery window (3 days, 7 on GHES) so a redelivery still dedupes.
        """
        cutoff = self._now() - older_than.total_seconds()

        def run(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM job_keys WHERE created_at < ?", (cutoff,))
            conn.execute("DELETE FROM deliveries WHERE received_at < ?", (cutoff,))
            conn.execute("DELETE FROM throttles WHERE until < ?", (cutoff,))
            return conn.execute(
                "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", (cutoff,)
            ).rowcount

        return await self._call(lambda: self._write(run))
