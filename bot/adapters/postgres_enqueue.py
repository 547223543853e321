"""Writing jobs and deliveries into the PostgreSQL queue (``bot.adapters.queue_postgres``),
inside the caller's transaction: a job is deferred through procrastinate unless its dedupe key
was seen, or merged into the waiting job of its coalesce key; the version it saw is recorded
either way. Deliveries come in batches (``group_commit``), stored with their jobs.

Why batches: every transaction that defers a procrastinate job sends a NOTIFY (its insert
trigger), and PostgreSQL serializes the commits of notifying transactions, flush to disk
included: one delivery per transaction stayed near one fsync per delivery (see the "Job queue
engines" section of docs/benchmarks.md). A batch pays one commit and one fsync for all.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bot.adapters import postgres_sql as sql
from bot.adapters.queue_rows import VERSIONS_KEPT, is_plain
from bot.services.ports import Delivery, EnqueueOutcome, NewJob

QUEUE = "promotion-bot"  # procrastinate's queue_name for every job of the bot
Connection = psycopg.AsyncConnection[tuple[Any, ...]]


async def insert_job(conn: Connection, job: NewJob) -> EnqueueOutcome:
    """``JobQueue.enqueue``, in the caller's transaction."""
    if job.seen is not None:
        await conn.execute(sql.RECORD_SEEN, (job.seen.subject, job.seen.tag, job.seen.digest))
        await conn.execute(sql.TRIM_SEEN, {"subject": job.seen.subject, "skip": VERSIONS_KEPT - 1})
    if job.dedupe_key is not None:
        cursor = await conn.execute(
            "INSERT INTO promotion_dedupe_keys (dedupe_key) VALUES (%s) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            (job.dedupe_key,),
        )
        if await cursor.fetchone() is None:
            return "duplicate"
    fields = {**vars(job), "queue": QUEUE, "args": Jsonb({"payload": job.payload})}
    while True:
        if job.coalesce_key is not None:
            merged = await (await conn.execute(sql.COALESCE, fields)).fetchone()
            if merged is not None:
                await _link_key(conn, job.dedupe_key, merged[0])
                return "coalesced"
        try:
            async with conn.transaction():  # a savepoint: a replica may defer the same key
                row = await (await conn.execute(sql.DEFER, fields)).fetchone()
        except psycopg.errors.UniqueViolation:
            continue  # it committed a waiting job of this coalesce key first: merge into it
        assert row is not None
        await _link_key(conn, job.dedupe_key, row[0])
        return "enqueued"


async def _link_key(conn: Connection, dedupe_key: str | None, job_id: int) -> None:
    if dedupe_key is not None:
        await conn.execute(
            "UPDATE promotion_dedupe_keys SET job_id = %s WHERE dedupe_key = %s",
            (job_id, dedupe_key),
        )


async def store_deliveries(
    conn: Connection, batch: list[tuple[Delivery, NewJob | None]]
) -> list[bool]:
    """Store the deliveries of ``batch`` not stored yet and their jobs; whether each was new
    (an id twice in one batch: its first)."""
    firsts: dict[str, int] = {}
    for place, (delivery, _) in enumerate(batch):
        firsts.setdefault(delivery.delivery_id, place)
    # In id order: two batches that share ids lock them in one order, never deadlock.
    rows = [
        (d.delivery_id, d.source, d.event, d.status, d.received_at, Jsonb(d.headers), d.body)
        for d in (batch[firsts[delivery_id]][0] for delivery_id in sorted(firsts))
    ]
    columns = tuple(list(column) for column in zip(*rows, strict=True))  # arrays for unnest
    cursor = await conn.execute(sql.INSERT_DELIVERIES, columns)
    new = {firsts[row[0]] for row in await cursor.fetchall()}
    jobs = [job for place, (_, job) in enumerate(batch) if place in new and job is not None]
    plain = [job for job in jobs if is_plain(job)]
    if plain:
        await conn.execute(
            sql.DEFER_MANY,
            {
                "queue": QUEUE,
                "kinds": [job.kind for job in plain],
                "locks": [job.serial_key for job in plain],
                "payloads": [job.payload for job in plain],
            },
        )
    for job in jobs:
        if not is_plain(job):
            await insert_job(conn, job)
    return [place in new for place in range(len(batch))]
