"""The SQLite side of the queue: its schema, the lease query, multi-row inserts, and the
database (one connection, one thread every statement runs on, write transactions; see
docs/adr/0002-sqlite-job-table-and-postgresql.md)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")
MAX_VARIABLES = 999  # host parameters per statement: SQLite's smallest limit (before 3.32)

SCHEMA = """
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
    waits INTEGER NOT NULL DEFAULT 0,  -- RetryLater waits, not counted in attempts
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
CREATE TABLE IF NOT EXISTS versions_seen (
    subject TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT,
    seen_at REAL NOT NULL,
    seq INTEGER NOT NULL,  -- the order of sightings (clocks tie)
    PRIMARY KEY (subject, tag)
);
CREATE INDEX IF NOT EXISTS versions_seen_seq ON versions_seen (seq);
CREATE INDEX IF NOT EXISTS versions_seen_order ON versions_seen (subject, seq);
CREATE TABLE IF NOT EXISTS throttles (
    installation_id INTEGER PRIMARY KEY,
    until REAL NOT NULL,
    reason TEXT NOT NULL
);
"""

# A job may run when it is due, nobody holds a live lease on its serial key and its
# installation is not throttled. An expired lease counts as released (the holder crashed).
# Oldest first, so events of one repository run in the order they arrived. ``waited``: how long
# the job has been ready, since it fell due or since its lease ended (expired, or reclaimed).
# The columns are ``Job``'s, with a new lease token.
LEASE_QUERY = """
SELECT id, kind, payload, attempts + 1, lower(hex(randomblob(8))), merged, serial_key,
       installation_id, dedupe_key,
       :now - max(j.available_at, coalesce(j.leased_until, j.available_at)) AS waited, waits
FROM jobs j
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


def migrate(conn: sqlite3.Connection) -> None:
    """Create what is missing; a queue file from before the count of waits gains it (0)."""
    conn.executescript(SCHEMA)
    if "waits" not in {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}:
        conn.execute("ALTER TABLE jobs ADD COLUMN waits INTEGER NOT NULL DEFAULT 0")


def insert_rows(
    conn: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]], returning: str = ""
) -> list[Any]:
    """``insert`` (ending in ``VALUES``) of all ``rows`` in as few statements as the variable
    limit allows; the rows ``returning`` yields. One statement per row (``executemany``) would
    hand the GIL to the event loop and wait to get it back once per row."""
    if not rows:
        return []
    row_marks = "(" + ",".join("?" * len(rows[0])) + ")"
    returned = []
    size = MAX_VARIABLES // len(rows[0])
    for chunk in (rows[start : start + size] for start in range(0, len(rows), size)):
        sql = insert + ",".join([row_marks] * len(chunk)) + returning
        returned += conn.execute(sql, [v for row in chunk for v in row]).fetchall()
    return returned


class Database:
    """The queue's SQLite file in WAL mode: one connection, used only on its own thread (so the
    event loop never waits on disk), and the clock that stamps its rows."""

    def __init__(self, path: str, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        # One thread runs every statement, in the order submitted.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-queue")
        self.conn = self.run(lambda: self._connect(path))

    def _connect(self, path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        # Checkpoint every 40 MB of WAL, not SQLite's 4 MB: with 28 kB bodies the default
        # checkpointed (and fsync'd the file) every 140 deliveries, and a burst of 1,000 took
        # 2.3 s to answer instead of 1.7 (docs/adr/0002-sqlite-job-table-and-postgresql.md).
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA busy_timeout=5000")
        migrate(conn)
        return conn

    def now(self) -> float:
        return self._clock().timestamp()

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the database thread and wait for it (start-up and shutdown)."""
        return self._thread.submit(fn).result()

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` on the database thread; the event loop goes on meanwhile."""
        return await asyncio.wrap_future(self._thread.submit(fn, self.conn, *args))

    async def write(
        self, fn: Callable[..., T], *args: Any, durable: bool = False, **kwargs: Any
    ) -> T:
        """``transact`` on the database thread; the event loop goes on meanwhile."""
        return await self.read(lambda _: self.transact(fn, *args, durable=durable, **kwargs))

    def transact(self, fn: Callable[..., T], *args: Any, durable: bool = False, **kwargs: Any) -> T:
        """(The database thread.) ``fn(conn, now, *args, **kwargs)`` in one write transaction,
        taken up front so two processes never deadlock; ``durable`` makes this commit, and
        every one before it, wait for the disk."""
        if durable:
            self.conn.execute("PRAGMA synchronous=FULL")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self.conn, self.now(), *args, **kwargs)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        finally:
            if durable:
                self.conn.execute("PRAGMA synchronous=NORMAL")
        return result

    def close(self) -> None:
        """Close the file once every call submitted before has run, then end the thread."""
        self.run(self.conn.close)
        self._thread.shutdown()
