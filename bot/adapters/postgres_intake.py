"""Deliveries into the PostgreSQL queue: every ``accept_delivery`` of one event-loop pass, and
those that arrive while a batch commits, are stored in one transaction with their jobs, then
each caller learns whether its delivery was new.

Why batches: every transaction that defers a procrastinate job sends a NOTIFY (its insert
trigger), and PostgreSQL serializes the commits of notifying transactions, flush to disk
included: one delivery per transaction stayed near one fsync per delivery (see the "Job queue
engines" section of docs/benchmarks.md). A batch pays one commit and one fsync for all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bot.adapters.postgres_sql import DEFER_MANY
from bot.services.ports import Delivery, NewJob

WRITERS = 2  # batches in flight: one fills while the other commits
Connection = psycopg.AsyncConnection[tuple[Any, ...]]
Transaction = Callable[[], AbstractAsyncContextManager[Connection]]
InsertJob = Callable[[Connection, NewJob], Any]
Waiting = tuple[Delivery, NewJob | None, "asyncio.Future[bool]"]

# Binary parameters: a body travels as its bytes, not four times as many hex digits to escape.
INSERT_DELIVERIES = """
INSERT INTO promotion_deliveries (delivery_id, source, event, status, received_at, headers, body)
SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[],
                     %b::jsonb[], %b::bytea[])
ON CONFLICT (delivery_id) DO NOTHING
RETURNING delivery_id
"""


class DeliveryBatches:
    """Stores deliveries in batches, through ``transaction`` (a durable one: the callers'
    acknowledgements wait for it). ``insert_job`` stores a job with keys, one at a time."""

    def __init__(self, transaction: Transaction, insert_job: InsertJob, queue: str) -> None:
        self._transaction = transaction
        self._insert_job = insert_job
        self._queue = queue
        self._waiting: list[Waiting] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def accept(self, delivery: Delivery, job: NewJob | None) -> bool:
        """``True`` once ``delivery`` and its job are committed; ``False`` for an id stored
        before (or earlier in the same batch)."""
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, job, stored))
        if len(self._writers) < WRITERS:
            writer = asyncio.create_task(self._write_all())
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await stored

    async def close(self) -> None:
        """Wait for the batches still being written."""
        await asyncio.gather(*self._writers)

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                new = await self._write(batch)
            except Exception as err:  # each caller answers with the error; nothing was stored
                for _, _, stored in batch:
                    if not stored.done():
                        stored.set_exception(err)
                continue
            for place, (_, _, stored) in enumerate(batch):
                if not stored.done():
                    stored.set_result(place in new)

    async def _write(self, batch: list[Waiting]) -> set[int]:
        """Store the deliveries of ``batch`` not stored yet and their jobs in one transaction;
        the places in ``batch`` of the deliveries that were new."""
        firsts: dict[str, int] = {}
        for place, (delivery, _, _) in enumerate(batch):  # an id twice: the first one counts
            firsts.setdefault(delivery.delivery_id, place)
        async with self._transaction() as conn:
            # In id order: two batches that share ids lock them in one order, never deadlock.
            deliveries = [batch[firsts[delivery_id]][0] for delivery_id in sorted(firsts)]
            cursor = await conn.execute(INSERT_DELIVERIES, _columns(deliveries))
            new = {firsts[row[0]] for row in await cursor.fetchall()}
            fresh = [batch[place][1] for place in sorted(new)]
            plain = [job for job in fresh if job is not None and _plain(job)]
            if plain:
                await conn.execute(
                    DEFER_MANY,
                    {
                        "queue": self._queue,
                        "kinds": [job.kind for job in plain],
                        "locks": [job.serial_key for job in plain],
                        "payloads": [job.payload for job in plain],
                    },
                )
            for job in fresh:
                if job is not None and not _plain(job):
                    await self._insert_job(conn, job)
        return new


def _plain(job: NewJob) -> bool:
    """A job without keys, installation or sighting: deferred with others in one statement."""
    return not (job.dedupe_key or job.coalesce_key or job.seen or job.installation_id)


def _columns(deliveries: Iterable[Delivery]) -> tuple[list[Any], ...]:
    """The deliveries as one array per column, for ``unnest``."""
    rows = [
        (d.delivery_id, d.source, d.event, d.status, d.received_at, Jsonb(d.headers), d.body)
        for d in deliveries
    ]
    return tuple(list(column) for column in zip(*rows, strict=True))
