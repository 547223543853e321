"""The ``JobQueue`` port on PostgreSQL, for any number of replicas on one database, built on
procrastinate's schema and SQL functions (``postgres_sql``), with the bot's tables beside them
(``bot/adapters/migrations``). How each part of the port maps onto them, and why: the
PostgreSQL section of docs/adr/0002-sqlite-job-table-and-postgresql.md.

A lease token is ``<worker id>:<attempts>``: procrastinate counts every retry and every
recovery in ``attempts``, so a job handed out again has a new token and its old holder can
neither renew nor settle it.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from bot.adapters import postgres_sql as sql
from bot.adapters.group_commit import GroupCommit
from bot.adapters.postgres_enqueue import QUEUE, insert_job, store_deliveries
from bot.adapters.postgres_schema import check_schema
from bot.adapters.queue_rows import newest_digests, queue_stats
from bot.services.ports import Delivery, EnqueueOutcome, Job, NewJob, QueueStats

# How often a queue looks for stalled workers' jobs (at most once per lease call).
RECOVERY_INTERVAL = 1.0
Connection = psycopg.AsyncConnection[tuple[Any, ...]]


class PostgresJobQueue:
    """A ``JobQueue`` and ``VersionsSeen`` on a PostgreSQL database migrated by
    ``promotion-bot db upgrade``; ``open`` it, ``close`` it."""

    def __init__(self, pool: AsyncConnectionPool[Connection], *, lease: timedelta) -> None:
        self.lease_term = lease
        self._pool = pool
        self._worker_id: int | None = None
        self._recovered_at = -math.inf
        self._deliveries = GroupCommit(self._store, writers=2)  # one fills, one commits

    @classmethod
    async def open(
        cls, url: str, *, lease: timedelta = timedelta(minutes=5), pool_size: int = 10
    ) -> PostgresJobQueue:
        """Connect once the schema is this bot's (``SchemaError`` otherwise)."""
        await check_schema(url)
        # No check of each connection as it leaves the pool (procrastinate's connector asks
        # for one): a round trip per transaction; a broken connection fails its transaction,
        # and the pool replaces it.
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            configure=_bookkeeping,
            open=False,
        )
        await pool.open(wait=True)
        return cls(pool, lease=lease)

    async def close(self) -> None:
        """Unregister this worker (its running jobs are handed out again at once), then close
        the pool."""
        await self._deliveries.close()
        if self._worker_id is not None:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "SELECT procrastinate_unregister_worker_v1(%s)", (self._worker_id,)
                )
        await self._pool.close()

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        """A connection of the pool, for what shares the database (``pace_postgres``)."""
        return self._pool.connection()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """One transaction; its commit does not wait for the disk (``_bookkeeping``)."""
        async with self._pool.connection() as conn, conn.transaction():
            yield conn

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """In the next durable commit, with the others waiting for it (``group_commit``)."""
        return await self._deliveries.submit((delivery, job))

    async def _store(self, batch: list[tuple[Delivery, NewJob | None]]) -> list[bool]:
        async with self._durable() as conn:
            return await store_deliveries(conn, batch)

    @asynccontextmanager
    async def _durable(self) -> AsyncIterator[Connection]:
        """A transaction whose commit waits for the disk (and so for every commit before it:
        the WAL is written in order)."""
        async with self._transaction() as conn:
            await conn.execute("SET LOCAL synchronous_commit = on")
            yield conn

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT delivery_id, source, event, body, received_at, headers, status "
                "FROM promotion_deliveries WHERE delivery_id = %s",
                (delivery_id,),
            )
            row = await cursor.fetchone()
        if row is None:
            return None
        return Delivery(row[0], row[1], row[2], bytes(row[3]), row[4], row[5], row[6])

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        async with self._transaction() as conn:
            return await insert_job(conn, job)

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        """``VersionsSeen``: what the jobs enqueued so far, by any replica, have recorded."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT tag, digest FROM promotion_versions_seen WHERE subject = ANY(%s) "
                "ORDER BY seq",
                (list(subjects),),
            )
            return newest_digests(await cursor.fetchall())

    async def lease(self) -> Job | None:
        """Hand out again the jobs of workers silent for a lease term (this one's too: a job
        nobody renewed for a term is lost to its holder), then fetch the oldest runnable job.
        Only a lease, or a renewal, beats this worker's heartbeat: polling does not."""
        try:
            async with self._transaction() as conn:
                if time.monotonic() - self._recovered_at > RECOVERY_INTERVAL:
                    await conn.execute(sql.PRUNE_STALLED, {"term": self.lease_term.total_seconds()})
                    await conn.execute(sql.RECOVER_STALLED, {"queue": QUEUE})
                    self._recovered_at = time.monotonic()
                fetched, worker = await self._fetch(conn)
                if fetched is None:
                    return None
                cursor = await conn.execute(sql.CLAIM, {**fetched, "worker": worker})
                claimed = await cursor.fetchone()
        except psycopg.errors.UniqueViolation:
            return None  # another replica took a job of the same serial key just now
        assert claimed is not None, f"job_id={fetched['id']} has no promotion_jobs row"
        return Job(*claimed)

    async def _fetch(self, conn: Connection) -> tuple[dict[str, Any] | None, int]:
        """The job fetched for this queue's worker (``None``: none is runnable), and the
        worker's id: registered anew when it never was or was pruned as stalled. (Leases
        running at once may each register one: the spare ones are pruned when silent.)"""
        worker = self._worker_id  # this call's own: another may replace it meanwhile
        if worker is not None:
            fetch = conn.cursor(row_factory=dict_row)
            await fetch.execute(sql.FETCH, {"queue": QUEUE, "worker": worker})
            row = await fetch.fetchone()
            if row is not None:  # the worker exists: a job, or a row of NULLs
                return (row if row["id"] is not None else None), worker
        cursor = await conn.execute("SELECT worker_id FROM procrastinate_register_worker_v1()")
        registered = await cursor.fetchone()
        assert registered is not None
        self._worker_id = int(registered[0])
        return await self._fetch(conn)

    async def extend_lease(self, job: Job) -> bool:
        """Beat the heartbeat of the worker holding ``job``, while it still holds it."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT procrastinate_update_heartbeat_v1(worker_id) FROM procrastinate_jobs "
                f"WHERE {sql.FENCE}",
                _fence(job),
            )
            return await cursor.fetchone() is not None

    async def complete(self, job: Job) -> None:
        await self._finish(job, "succeeded", None)

    async def fail(self, job: Job, *, error: str) -> None:
        await self._finish(job, "failed", error)

    async def _finish(self, job: Job, status: str, error: str | None) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(sql.FINISH, {**_fence(job), "status": status, "error": error})

    async def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        """Due again after ``after``, or when its installation's throttle ends if later."""
        async with self._transaction() as conn:
            if await (await conn.execute(sql.HOLD, _fence(job))).fetchone() is None:
                return  # the lease was lost
            settle = {"id": job.id, "installation": job.installation_id, "after": after}
            if throttle_installation and job.installation_id:
                await conn.execute(sql.THROTTLE, {**settle, "reason": error})
            await conn.execute(sql.RETRY, settle)
            await conn.execute(
                "UPDATE promotion_jobs SET last_error = %s, waits = waits + %s, "
                "updated_at = now() WHERE job_id = %s",
                (error, int(throttle_installation), job.id),
            )

    async def stats(self) -> QueueStats:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql.STATS, {"queue": QUEUE})
            row = await cursor.fetchone()
        assert row is not None
        return queue_stats(row[0] or {}, ("todo", "doing", "succeeded", "failed"), *row[1:])

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished jobs, dedupe keys, throttles and deliveries older than
        ``older_than``; the count of jobs deleted."""
        async with self._pool.connection() as conn:
            return (await conn.execute(sql.PRUNE, {"age": older_than})).rowcount


async def _bookkeeping(conn: Connection) -> None:
    """A new pooled session: commits do not wait for the disk unless a transaction asks, as
    bookkeeping whose loss in a crash only runs a job again. Sessions are in autocommit: a
    single statement is its own transaction, one round trip; several take a transaction."""
    await conn.execute("SET synchronous_commit = off")


def _fence(job: Job) -> dict[str, Any]:
    worker, _, attempts = job.lease_token.partition(":")
    return {"id": job.id, "worker": int(worker), "attempts": int(attempts)}
