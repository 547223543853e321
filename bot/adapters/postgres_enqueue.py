"""Enqueueing on the PostgreSQL queue (``bot.adapters.queue_postgres``), inside the caller's
transaction: a job is deferred through procrastinate unless its dedupe key was seen, or merged
into the waiting job of its coalesce key; the version it saw is recorded either way."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bot.adapters.postgres_sql import COALESCE, DEFER, RECORD_SEEN, TRIM_SEEN
from bot.core.inputs.events import VersionSeen
from bot.services.ports import EnqueueOutcome, NewJob

QUEUE = "promotion-bot"  # procrastinate's queue_name for every job of the bot
VERSIONS_KEPT = 500  # the newest sightings kept per subject, as on SQLite
Connection = psycopg.AsyncConnection[tuple[Any, ...]]


async def insert_job(conn: Connection, job: NewJob) -> EnqueueOutcome:
    """Add ``job`` unless its dedupe key was seen; merge it into the waiting job of its
    coalesce key (its payload wins). Its ``seen`` version is recorded first, whatever becomes
    of the job."""
    if job.seen is not None:
        await _record_seen(conn, job.seen)
    if job.dedupe_key is not None:
        cursor = await conn.execute(
            "INSERT INTO promotion_dedupe_keys (dedupe_key) VALUES (%s) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            (job.dedupe_key,),
        )
        if await cursor.fetchone() is None:
            return "duplicate"
    args = Jsonb({"payload": job.payload})
    while True:
        if job.coalesce_key is not None:
            cursor = await conn.execute(
                COALESCE, {"queue": QUEUE, "key": job.coalesce_key, "args": args}
            )
            merged = await cursor.fetchone()
            if merged is not None:
                await _link_key(conn, job.dedupe_key, merged[0])
                return "coalesced"
        try:
            async with conn.transaction():  # a savepoint: a replica may defer the same key
                cursor = await conn.execute(
                    DEFER,
                    {
                        "queue": QUEUE,
                        "kind": job.kind,
                        "lock": job.serial_key,
                        "queueing_lock": job.coalesce_key,
                        "args": args,
                        "installation": job.installation_id,
                        "dedupe_key": job.dedupe_key,
                    },
                )
                row = await cursor.fetchone()
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


async def _record_seen(conn: Connection, seen: VersionSeen) -> None:
    """Remember ``seen`` (a tag seen again takes its newest digest), keeping the newest
    ``VERSIONS_KEPT`` of its subject."""
    await conn.execute(RECORD_SEEN, (seen.subject, seen.tag, seen.digest))
    await conn.execute(TRIM_SEEN, {"subject": seen.subject, "skip": VERSIONS_KEPT - 1})
