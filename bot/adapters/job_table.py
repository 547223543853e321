"""The jobs of the SQLite queue: enqueue (with dedupe and coalesce keys), lease, complete, retry
and fail, reclaim after a crash, and the counts of ``stats``; the versions seen, recorded as
their jobs are enqueued.

``JobTable`` runs on the database thread (``SqliteJobQueue`` hands its calls there); the queue
creates the jobs of the deliveries it stores with ``insert_jobs``, in the deliveries' own
transaction.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from bot.adapters.sqlite_store import LEASE_QUERY, Database, insert_rows
from bot.core.inputs.events import VersionSeen
from bot.services.ports import EnqueueOutcome, Job, JobKind, NewJob, QueueStats

# The newest sightings kept per subject: far more versions than any policy picks among, and a
# bound on what one image's pushes can make the table hold.
VERSIONS_KEPT = 500


def insert_jobs(conn: sqlite3.Connection, jobs: list[NewJob], now: float) -> None:
    """Jobs without dedupe or coalesce keys in one statement, the others one by one."""
    plain: list[NewJob] = []
    keyed: list[NewJob] = []
    for job in jobs:
        one_by_one = job.dedupe_key or job.coalesce_key or job.seen
        (keyed if one_by_one else plain).append(job)
    insert_rows(
        conn,
        "INSERT INTO jobs (kind, payload, serial_key, installation_id, available_at, "
        "created_at, updated_at) VALUES ",
        [(j.kind, j.payload, j.serial_key, j.installation_id, now, now, now) for j in plain],
    )
    for job in keyed:
        insert_job(conn, job, now)


def insert_job(conn: sqlite3.Connection, job: NewJob, now: float) -> EnqueueOutcome:
    """Add ``job`` unless its dedupe key was seen; merge it into the oldest waiting, never tried
    job of its coalesce key (its payload wins). Its ``seen`` version is recorded first: the job
    may be a duplicate or be merged away, the sighting is kept."""
    if job.seen is not None:
        record_seen(conn, job.seen, now)
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
            _link_key(conn, job.dedupe_key, merged[0])
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
    _link_key(conn, job.dedupe_key, job_id)
    return "enqueued"


def record_seen(conn: sqlite3.Connection, seen: VersionSeen, now: float) -> None:
    """Remember ``seen`` (a tag seen again takes its newest digest), keeping the newest
    ``VERSIONS_KEPT`` of its subject."""
    conn.execute(
        "INSERT INTO versions_seen VALUES (?, ?, ?, ?, "
        "(SELECT coalesce(max(seq), 0) + 1 FROM versions_seen)) ON CONFLICT (subject, tag) "
        "DO UPDATE SET digest = coalesce(excluded.digest, digest), seen_at = excluded.seen_at, "
        "seq = excluded.seq",
        (seen.subject, seen.tag, seen.digest, now),
    )
    conn.execute(
        "DELETE FROM versions_seen WHERE subject = ? AND tag NOT IN (SELECT tag FROM "
        "versions_seen WHERE subject = ? ORDER BY seq DESC LIMIT ?)",
        (seen.subject, seen.subject, VERSIONS_KEPT),
    )


def versions_seen(conn: sqlite3.Connection, subjects: Sequence[str]) -> dict[str, str | None]:
    """Every tag seen under ``subjects`` -> its digest (the newest sighting wins)."""
    marks = ", ".join("?" * len(subjects))
    rows = conn.execute(
        f"SELECT tag, digest FROM versions_seen WHERE subject IN ({marks}) ORDER BY seq",
        tuple(subjects),
    )
    found: dict[str, str | None] = {}
    for tag, digest in rows:
        found[tag] = digest or found.get(tag)
    return found


def _link_key(conn: sqlite3.Connection, dedupe_key: str | None, job_id: int) -> None:
    if dedupe_key is not None:
        conn.execute("UPDATE job_keys SET job_id = ? WHERE dedupe_key = ?", (job_id, dedupe_key))


class JobTable:
    """The jobs in ``db``; a lease lasts ``lease``, then the job is handed out again."""

    def __init__(self, db: Database, *, lease: timedelta) -> None:
        self._db = db
        self._lease = lease

    def reclaim(self) -> int:
        """Free every lease: at start-up they belong to a process that is gone. A freed job
        keeps when its lease ended (now, or when it expired) for its wait."""
        return self._db.write(
            lambda c: (
                c.execute(
                    "UPDATE jobs SET state = 'ready', leased_until = min(leased_until, ?), "
                    "lease_token = NULL WHERE state = 'leased'",
                    (self._db.now(),),
                ).rowcount
            )
        )

    def enqueue(self, job: NewJob) -> EnqueueOutcome:
        return self._db.write(lambda c: insert_job(c, job, self._db.now()))

    def lease(self) -> Job | None:
        return self._db.write(self._lease_in)

    def _lease_in(self, conn: sqlite3.Connection) -> Job | None:
        now = self._db.now()
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
            waited=row[8],
            waits=row[9],
        )

    def extend_lease(self, job: Job) -> bool:
        """Move ``leased_until`` a full lease from now while ``job`` still holds its lease (its
        token is the job's: a lease handed out again has a new one); ``False`` otherwise."""
        now = self._db.now()
        return bool(
            self._db.write(
                lambda c: (
                    c.execute(
                        "UPDATE jobs SET leased_until = ? WHERE id = ? AND state = 'leased' "
                        "AND lease_token = ?",
                        (now + self._lease.total_seconds(), job.id, job.lease_token),
                    ).rowcount
                )
            )
        )

    def complete(self, job: Job) -> None:
        self._finish(job, "state = 'done', last_error = NULL")

    def fail(self, job: Job, error: str) -> None:
        self._finish(job, "state = 'dead', last_error = ?", error)

    def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        """Ready again after ``after``. With ``throttle_installation`` (a ``RetryLater``) it is a
        wait, not a failure: the lease does not count as an attempt but as a wait, and the
        installation's other jobs wait as long."""
        settle = "state = 'ready', last_error = ?, available_at = ?"
        if throttle_installation:
            settle += ", attempts = attempts - 1, waits = waits + 1"

        def run(conn: sqlite3.Connection) -> None:
            until = self._db.now() + after.total_seconds()
            if (
                self._release(conn, job, settle, error, until)
                and throttle_installation
                and job.installation_id
            ):
                conn.execute(
                    "INSERT INTO throttles VALUES (?, ?, ?) ON CONFLICT (installation_id) "
                    "DO UPDATE SET until = max(until, excluded.until), reason = excluded.reason",
                    (job.installation_id, until, error),
                )

        self._db.write(run)

    def _finish(self, job: Job, assignments: str, *args: Any) -> None:
        self._db.write(lambda c: self._release(c, job, assignments, *args))

    def _release(self, conn: sqlite3.Connection, job: Job, assignments: str, *args: Any) -> bool:
        """Apply ``assignments`` if ``job`` still holds its lease; a lost lease changes nothing."""
        return bool(
            conn.execute(
                f"UPDATE jobs SET {assignments}, leased_until = NULL, lease_token = NULL, "
                "updated_at = ? WHERE id = ? AND lease_token = ?",
                (*args, self._db.now(), job.id, job.lease_token),
            ).rowcount
        )

    def stats(self) -> QueueStats:
        conn = self._db.conn
        counts = dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"))
        deliveries = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        now = self._db.now()
        # Due, unleased jobs only: a job waiting out its backoff is not late yet.
        oldest = conn.execute(
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

    def prune_in(self, conn: sqlite3.Connection, cutoff: float) -> int:
        """Delete dedupe keys, throttles and finished jobs older than ``cutoff`` (part of the
        queue's ``prune`` transaction); the count of jobs deleted."""
        conn.execute("DELETE FROM job_keys WHERE created_at < ?", (cutoff,))
        conn.execute("DELETE FROM throttles WHERE until < ?", (cutoff,))
        return conn.execute(
            "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", (cutoff,)
        ).rowcount
