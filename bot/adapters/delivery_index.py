"""The index of spooled deliveries: accepting a delivery into the spool, indexing spooled
deliveries and creating their jobs in batches, recovering what a crash left unindexed, reading
a delivery back, and pruning old ones.

An index batch records how far into the spool it reached in the same transaction, so at
start-up whatever lies beyond is indexed again and a crash loses nothing. The queue
(``bot.adapters.queue_sqlite``) indexes before every read.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path

from bot.adapters.delivery_entry import Entry, log_accepted
from bot.adapters.job_table import insert_jobs
from bot.adapters.spool import Location, Position, Spool, read_records, segment_numbers
from bot.adapters.sqlite_store import SPOOL_COLUMNS, Database, insert_rows
from bot.services.ports import Delivery, NewJob

# Spooled deliveries wait to be indexed until something reads the queue (the worker leasing, a
# lookup, stats) or this many wait: under a burst, indexing competes with the answers for the
# interpreter, and the worker defers to them anyway. A waiting entry holds no body.
INDEX_BACKLOG = 20_000
DEDUPE_WINDOW = 100_000  # delivery ids remembered in memory to answer a redelivery at once
log = logging.getLogger("bot.intake")


class DeliveryIndex:
    """The deliveries in ``db`` and their spool (``<file>-spool``). ``accept`` runs on the event
    loop; everything else on the database thread."""

    def __init__(self, db: Database, *, dedupe_window: int = DEDUPE_WINDOW) -> None:
        self._db = db
        self._dedupe_window = dedupe_window
        self._recent: OrderedDict[str, None] = OrderedDict()  # the oldest id first
        self._lock = threading.Lock()
        self._unindexed: list[tuple[Entry, Location]] = []
        self._index_scheduled = False
        self.spool = Spool[Entry](Path(db.path + "-spool"), self._spooled)
        db.run(self._recover)

    def close(self) -> None:
        """Write what is waiting to the spool, then index it."""
        self.spool.close()
        self._db.run(self.index_spooled)

    async def accept(self, delivery: Delivery, job: NewJob | None) -> bool:
        """Spool ``delivery`` durably; ``False``, at once, for an id in the dedupe window.

        A redelivery older than the window is acknowledged like a new one and dropped when it
        is indexed: it never runs twice either way.
        """
        if delivery.delivery_id in self._recent:
            return False
        self._remember(delivery.delivery_id)
        try:
            entry = Entry.of(delivery, job)
            await self.spool.append(entry.encode(), delivery.body, entry)
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
            self._db.thread.submit(self.index_spooled)

    def index_spooled(self) -> None:
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
        conn = self._db.conn
        row = conn.execute("SELECT spool_segment, spool_offset FROM spool_position").fetchone()
        after = Position(*row) if row else Position()
        leftovers = [
            (Entry.decode(meta), location)
            for meta, location in read_records(self.spool.directory, after)
        ]
        if leftovers:
            log.info("indexing deliveries left in the spool count=%d", len(leftovers))
            self._index(leftovers)
        newest = conn.execute(
            "SELECT delivery_id FROM deliveries ORDER BY received_at DESC LIMIT ?",
            (self._dedupe_window,),
        ).fetchall()
        self._recent = OrderedDict.fromkeys(row[0] for row in reversed(newest))

    def _index(self, batch: list[tuple[Entry, Location]]) -> None:
        fresh = self._db.write(lambda c: self._insert(c, batch))
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
        jobs = [entry.job for entry in fresh if entry.job is not None]
        insert_jobs(conn, jobs, self._db.now())
        end = max(location.end for _, location in batch)
        conn.execute(
            "INSERT INTO spool_position VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "spool_segment = excluded.spool_segment, spool_offset = excluded.spool_offset",
            end,
        )
        return fresh

    def get(self, delivery_id: str) -> Delivery | None:
        """The indexed delivery, its body read from the spool (or the row, in a queue file from
        before the spool); ``None`` for an id not indexed."""
        row = self._db.conn.execute(
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
            body=bytes(row[3]) if row[7] is None else self.spool.read_body(Location(*row[7:])),
            received_at=datetime.fromtimestamp(row[4], UTC),
            headers=json.loads(row[5]),
            status=row[6],
        )

    def prune_in(self, conn: sqlite3.Connection, cutoff: float) -> set[int]:
        """Delete deliveries received before ``cutoff`` (part of the queue's ``prune``
        transaction); the spool segments before the indexed position that no remaining
        delivery points into, for ``spool.remove_segments`` once the transaction is durable."""
        conn.execute("DELETE FROM deliveries WHERE received_at < ?", (cutoff,))
        position = conn.execute("SELECT spool_segment FROM spool_position").fetchone()
        used = conn.execute(
            "SELECT DISTINCT spool_segment FROM deliveries WHERE spool_segment IS NOT NULL"
        ).fetchall()
        indexed = {n for n in segment_numbers(self.spool.directory) if position and n < position[0]}
        return indexed - {row[0] for row in used}
