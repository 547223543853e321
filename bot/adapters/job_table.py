"""The jobs of the SQLite queue: enqueue (with dedupe and coalesce keys), lease, settle, reclaim
after a crash, stats and prune; the versions seen, recorded as their jobs are enqueued.

Each function takes the connection and the time, and runs on the database thread inside the
transaction ``sqlite_store.Database.write`` opened (``SqliteJobQueue`` hands its calls there).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from bot.adapters.queue_rows import VERSIONS_KEPT, is_plain, newest_digests, queue_stats
from bot.adapters.sqlite_store import LEASE_QUERY, insert_rows
from bot.core.inputs.events import VersionSeen
from bot.services.ports import EnqueueOutcome, Job, NewJob, QueueStats


def insert_jobs(conn: sqlite3.Connection, now: float, jobs: list[NewJob]) -> None:
    """Plain jobs in one statement, the others one by one."""
    insert_rows(
        conn,
        "INSERT INTO jobs (kind, payload, serial_key, available_at, created_at, updated_at) "
        "VALUES ",
        [(j.kind, j.payload, j.serial_key, now, now, now) for j in jobs if is_plain(j)],
    )
    for job in jobs:
        if not is_plain(job):
            insert_job(conn, now, job)


def insert_job(conn: sqlite3.Connection, now: float, job: NewJob) -> EnqueueOutcome:
    """``JobQueue.enqueue``: the oldest waiting, never tried job of the coalesce key absorbs it."""
    if job.seen is not None:
        record_seen(conn, now, job.seen)
    if job.dedupe_key is not None and not (
        conn.execute(
            "INSERT INTO job_keys VALUES (?, 0, ?) ON CONFLICT DO NOTHING", (job.dedupe_key, now)
        ).rowcount
    ):
        return "duplicate"
    row = None
    if job.coalesce_key is not None:
        row = conn.execute(
            "UPDATE jobs SET payload = ?, merged = merged + 1, updated_at = ? "
            "WHERE id = (SELECT id FROM jobs WHERE coalesce_key = ? AND state = 'ready' "
            "AND attempts = 0 ORDER BY id LIMIT 1) RETURNING id",
            (job.payload, now, job.coalesce_key),
        ).fetchone()
    outcome: EnqueueOutcome = "enqueued" if row is None else "coalesced"
    if row is None:
        row = conn.execute(
            "INSERT INTO jobs (kind, payload, dedupe_key, coalesce_key, serial_key, "
            "installation_id, available_at, created_at, updated_at) VALUES (:kind, :payload, "
            ":dedupe_key, :coalesce_key, :serial_key, :installation_id, :now, :now, :now) "
            "RETURNING id",
            {**vars(job), "now": now},
        ).fetchone()
    if job.dedupe_key is not None:
        conn.execute(
            "UPDATE job_keys SET job_id = ? WHERE dedupe_key = ?", (row[0], job.dedupe_key)
        )
    return outcome


def record_seen(conn: sqlite3.Connection, now: float, seen: VersionSeen) -> None:
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
    marks = ", ".join("?" * len(subjects))
    return newest_digests(
        conn.execute(
            f"SELECT tag, digest FROM versions_seen WHERE subject IN ({marks}) ORDER BY seq",
            tuple(subjects),
        )
    )


def reclaim(conn: sqlite3.Connection, now: float) -> int:
    """Free every lease: at start-up they belong to a process that is gone. A freed job keeps
    when its lease ended (now, or when it expired) for its wait."""
    return conn.execute(
        "UPDATE jobs SET state = 'ready', leased_until = min(leased_until, ?), "
        "lease_token = NULL WHERE state = 'leased'",
        (now,),
    ).rowcount


def lease(conn: sqlite3.Connection, now: float, term: float) -> Job | None:
    row = conn.execute(LEASE_QUERY, {"now": now}).fetchone()
    if row is None:
        return None
    job = Job(*row)
    conn.execute(
        "UPDATE jobs SET state = 'leased', attempts = attempts + 1, lease_token = ?, "
        "leased_until = ?, updated_at = ? WHERE id = ?",
        (job.lease_token, now + term, now, job.id),
    )
    return job


def extend_lease(conn: sqlite3.Connection, now: float, job: Job, term: float) -> bool:
    """While ``job`` holds its lease (a lease handed out again has a new token)."""
    return bool(
        conn.execute(
            "UPDATE jobs SET leased_until = ? WHERE id = ? AND state = 'leased' "
            "AND lease_token = ?",
            (now + term, job.id, job.lease_token),
        ).rowcount
    )


def release(conn: sqlite3.Connection, now: float, job: Job, assignments: str, *args: Any) -> bool:
    """Apply ``assignments`` if ``job`` still holds its lease; a lost lease changes nothing."""
    return bool(
        conn.execute(
            f"UPDATE jobs SET {assignments}, leased_until = NULL, lease_token = NULL, "
            "updated_at = ? WHERE id = ? AND lease_token = ?",
            (*args, now, job.id, job.lease_token),
        ).rowcount
    )


def retry(
    conn: sqlite3.Connection, now: float, job: Job, after: timedelta, *, error: str, throttle: bool
) -> None:
    """``JobQueue.retry``; ``throttle`` is its ``throttle_installation``."""
    settle = "state = 'ready', last_error = ?, available_at = ?"
    if throttle:
        settle += ", attempts = attempts - 1, waits = waits + 1"
    until = now + after.total_seconds()
    if release(conn, now, job, settle, error, until) and throttle and job.installation_id:
        conn.execute(
            "INSERT INTO throttles VALUES (?, ?, ?) ON CONFLICT (installation_id) "
            "DO UPDATE SET until = max(until, excluded.until), reason = excluded.reason",
            (job.installation_id, until, error),
        )


def stats(conn: sqlite3.Connection, now: float) -> QueueStats:
    # Due, unleased jobs only: a job waiting out its backoff is not late yet.
    [(deliveries, oldest)] = conn.execute(
        "SELECT (SELECT count(*) FROM deliveries), (SELECT min(available_at) FROM jobs "
        "WHERE state = 'ready' AND available_at <= ?)",
        (now,),
    )
    counts = dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"))
    age = None if oldest is None else now - oldest
    return queue_stats(counts, ("ready", "leased", "done", "dead"), deliveries, age)


def prune(conn: sqlite3.Connection, now: float, older_than: float) -> int:
    """Delete deliveries, dedupe keys, throttles and finished jobs older than ``older_than``
    seconds; the count of jobs deleted."""
    cutoff = now - older_than
    conn.execute("DELETE FROM deliveries WHERE received_at < ?", (cutoff,))
    conn.execute("DELETE FROM job_keys WHERE created_at < ?", (cutoff,))
    conn.execute("DELETE FROM throttles WHERE until < ?", (cutoff,))
    return conn.execute(
        "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", (cutoff,)
    ).rowcount
