"""The ``JobQueue`` and ``VersionsSeen`` ports, one suite for both engines: SQLite and PostgreSQL.

Only the port is used, plus how each engine is opened (``Engine``). PostgreSQL keeps its own
clock, so waits are real and short, and every "eventually" has a generous deadline: the suite
must not flake on a loaded machine. Two queue instances on one store stand for two replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.adapters import job_table, postgres_enqueue
from bot.adapters.queue_postgres import PostgresJobQueue
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.core.inputs.events import VersionSeen
from bot.services.ports import Delivery, Job, NewJob, QueueStats

Queue = SqliteJobQueue | PostgresJobQueue
T = TypeVar("T")
HELD = timedelta(minutes=5)  # a lease that does not run out during a test
SHORT = timedelta(seconds=3)  # a lease the tests let run out
DEADLINE = 30.0  # seconds an "eventually" may take on a loaded machine


@dataclass
class Engine:
    """Opens queues (replicas) on one store of one engine; closes them all at the end."""

    name: str
    open_one: Callable[[timedelta, bool], Awaitable[Queue]]
    versions_module: Any
    # procrastinate's fetch runs the jobs of one lock in id order, waiting ones included: a job
    # waiting out its backoff holds its serial key (SQLite lets newer jobs of the key go).
    backoff_holds_serial_key: bool
    opened: list[Queue] = field(default_factory=list)

    async def open(self, lease: timedelta = HELD) -> Queue:
        queue = await self.open_one(lease, not self.opened)
        self.opened.append(queue)
        return queue

    async def close(self) -> None:
        for queue in self.opened:
            if isinstance(queue, PostgresJobQueue):
                await queue.close()
            else:
                queue.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    if request.param == "sqlite":

        async def open_sqlite(lease: timedelta, first: bool) -> Queue:
            # One process consumes a SQLite queue: only the first instance frees leases.
            return SqliteJobQueue(tmp_path / "queue.sqlite3", lease=lease, reclaim_leases=first)

        opened = Engine("sqlite", open_sqlite, job_table, backoff_holds_serial_key=False)
    else:
        url = request.getfixturevalue("database")

        async def open_postgres(lease: timedelta, first: bool) -> Queue:
            return await PostgresJobQueue.open(url, lease=lease, pool_size=4)

        opened = Engine("postgres", open_postgres, postgres_enqueue, backoff_holds_serial_key=True)
    yield opened
    await opened.close()


@pytest.fixture
async def queue(engine: Engine) -> Queue:
    return await engine.open()


def job(payload: str = "{}", **keys: Any) -> NewJob:
    return NewJob(kind="event", payload=payload, **keys)


def delivery(delivery_id: str = "d-1") -> Delivery:
    return Delivery(
        delivery_id=delivery_id,
        source="github",
        event="push",
        body=b'{"zen": 1}',
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        headers={"x-github-event": "push"},
    )


async def eventually(attempt: Callable[[], Awaitable[T | None]]) -> T:
    """The first non-``None`` result of ``attempt``, tried until ``DEADLINE``."""
    deadline = time.monotonic() + DEADLINE
    while True:
        result = await attempt()
        if result is not None:
            return result
        assert time.monotonic() < deadline, "nothing came before the deadline"
        await asyncio.sleep(0.05)


async def counts(queue: Queue) -> QueueStats:
    """The queue's stats without the age of its oldest job, which real clocks make vary."""
    return replace(await queue.stats(), oldest_ready_age=0.0)


async def leased(queue: Queue) -> Job:
    found = await queue.lease()
    assert found is not None
    return found


async def test_a_delivery_is_stored_once_with_its_job(queue: Queue) -> None:
    assert await queue.accept_delivery(delivery(), job('{"n": 1}'))
    assert not await queue.accept_delivery(delivery(), job('{"n": 2}'))
    assert await queue.get_delivery("d-1") == delivery()
    assert await queue.get_delivery("unknown") is None
    assert await counts(queue) == QueueStats(ready=1, deliveries=1)
    await asyncio.sleep(0.01)
    assert (await queue.stats()).oldest_ready_age > 0.0  # the job is due and waits
    assert (await leased(queue)).payload == '{"n": 1}'
    assert await queue.lease() is None


async def test_deliveries_accepted_at_once_are_each_stored_once(queue: Queue) -> None:
    """Concurrent callers (PostgreSQL stores one event-loop pass's deliveries in one
    transaction); an id sent twice at once is stored once."""
    ids = [f"d-{n % 10}" for n in range(20)]
    accepted = await asyncio.gather(
        *(queue.accept_delivery(delivery(i), job(f'{{"id": "{i}"}}')) for i in ids)
    )
    assert accepted == [True] * 10 + [False] * 10
    assert await counts(queue) == QueueStats(ready=10, deliveries=10)


async def test_an_ignored_delivery_has_no_job(queue: Queue) -> None:
    assert await queue.accept_delivery(delivery(), None)
    assert await queue.lease() is None
    assert await counts(queue) == QueueStats(deliveries=1)


async def test_a_dedupe_key_is_enqueued_once(queue: Queue) -> None:
    outcomes = [await queue.enqueue(job(dedupe_key="image:a:1@x")) for _ in range(3)]
    assert outcomes == ["enqueued", "duplicate", "duplicate"]


async def test_events_coalesce_into_one_waiting_job_with_the_newest_payload(queue: Queue) -> None:
    outcomes = [
        await queue.enqueue(job(f"tag-{n}", dedupe_key=f"k{n}", coalesce_key="image:1:app"))
        for n in range(10)
    ]
    assert outcomes == ["enqueued"] + ["coalesced"] * 9
    first = await leased(queue)
    assert (first.payload, first.merged, first.attempt) == ("tag-9", 10, 1)
    assert await queue.lease() is None
    # A merged event's dedupe key still dedupes its redelivery.
    assert await queue.enqueue(job("again", dedupe_key="k3", coalesce_key="image:1:app")) == (
        "duplicate"
    )
    # A leased job absorbs nothing: a newer event waits in a job of its own.
    assert await queue.enqueue(job("newer", coalesce_key="image:1:app")) == "enqueued"
    assert await queue.enqueue(job("newest", coalesce_key="image:1:app")) == "coalesced"
    second = await leased(queue)
    assert (second.payload, second.merged) == ("newest", 2)


async def test_every_version_seen_is_kept_whatever_becomes_of_its_job(
    engine: Engine, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coalescing keeps the newest payload only; the sightings merged away stay on record (a
    tag pushed again keeps its newest digest), the newest ``VERSIONS_KEPT`` per subject."""
    monkeypatch.setattr(engine.versions_module, "VERSIONS_KEPT", 3)
    subject = "image:1:ghcr.io/acme/api"
    sightings = [("1.3.0", "sha256:a"), ("1.9.0", None), ("1.2.9", "sha256:c"), ("1.9.0", None)]
    outcomes = []
    for n, (tag, digest) in enumerate(sightings):
        seen = VersionSeen(subject, tag, digest)
        outcomes.append(
            await queue.enqueue(
                job(f"p{n}", dedupe_key=f"{tag}@{digest}", coalesce_key="c", seen=seen)
            )
        )
    assert outcomes == ["enqueued", "coalesced", "coalesced", "duplicate"]
    await queue.enqueue(job("o", seen=VersionSeen("image:*:ghcr.io/acme/api", "1.9.0", "sha256:b")))
    assert await queue.versions_seen([subject, "image:*:ghcr.io/acme/api"]) == {
        "1.3.0": "sha256:a",
        "1.2.9": "sha256:c",
        "1.9.0": "sha256:b",
    }
    await queue.enqueue(job("newer", seen=VersionSeen(subject, "2.0.0")))
    assert set(await queue.versions_seen([subject])) == {"1.2.9", "1.9.0", "2.0.0"}
    assert await queue.versions_seen(["image:2:ghcr.io/acme/api"]) == {}


async def test_jobs_are_leased_oldest_first(queue: Queue) -> None:
    for name in ["a", "b", "c"]:
        await queue.enqueue(job(name))
    assert [(await leased(queue)).payload for _ in range(3)] == ["a", "b", "c"]


async def test_jobs_of_one_serial_key_run_one_at_a_time(queue: Queue) -> None:
    for name, key in [("a1", "acme/env"), ("a2", "acme/env"), ("b1", "acme/other")]:
        await queue.enqueue(job(name, serial_key=key))
    first, second = await leased(queue), await leased(queue)
    assert (first.payload, second.payload) == ("a1", "b1")
    assert await queue.lease() is None
    await queue.complete(first)
    assert (await leased(queue)).payload == "a2"


async def test_a_job_waiting_out_its_backoff_and_its_serial_key(
    engine: Engine, queue: Queue
) -> None:
    for name in ["a1", "a2"]:
        await queue.enqueue(job(name, serial_key="acme/env"))
    first = await leased(queue)
    await queue.retry(first, after=timedelta(seconds=2), error="boom")
    newer = await queue.lease()
    if engine.backoff_holds_serial_key:
        assert newer is None
        assert [(await eventually(queue.lease)).payload] == ["a1"]
    else:
        assert newer is not None and newer.payload == "a2"


async def test_complete_retry_and_fail_settle_a_job(queue: Queue) -> None:
    for name in ["ok", "flaky", "broken"]:
        await queue.enqueue(job(name))
    ok, flaky, broken = [await leased(queue) for _ in range(3)]
    assert await counts(queue) == QueueStats(leased=3)
    await queue.complete(ok)
    await queue.fail(broken, error="JobRejected: not a push")
    await queue.retry(flaky, after=timedelta(seconds=2), error="boom")
    stats = await queue.stats()
    assert (stats.ready, stats.leased, stats.done, stats.dead) == (1, 0, 1, 1)
    assert await queue.lease() is None  # the retry waits for its delay
    again = await eventually(queue.lease)
    assert (again.payload, again.attempt, again.waits) == ("flaky", 2, 0)
    await queue.complete(again)
    assert await queue.lease() is None  # nothing settled comes back
    assert (await queue.stats()).done == 2


async def test_a_throttled_installation_waits_and_the_others_go_on(queue: Queue) -> None:
    await queue.enqueue(job("limited-1", installation_id=1))
    await queue.enqueue(job("limited-2", installation_id=1))
    await queue.enqueue(job("other", installation_id=2))
    limited = await leased(queue)
    assert limited.payload == "limited-1"
    await queue.retry(
        limited, after=timedelta(seconds=2), error="rate limited", throttle_installation=True
    )
    assert (await leased(queue)).payload == "other"
    await queue.enqueue(job("limited-3", installation_id=1))  # enqueued during the throttle
    assert await queue.lease() is None  # neither handed out nor put back: they wait
    again = await eventually(queue.lease)
    # A wait is not an attempt; the job keeps its place, first of its installation.
    assert (again.payload, again.attempt, again.waits) == ("limited-1", 1, 1)
    assert again.waited >= 0.0
    rest = [(await eventually(queue.lease)).payload for _ in range(2)]
    assert rest == ["limited-2", "limited-3"]


async def test_a_renewed_lease_keeps_the_job_and_a_lost_one_is_fenced_off(
    engine: Engine,
) -> None:
    first, second = await engine.open(SHORT), await engine.open(SHORT)
    await first.enqueue(job("slow"))
    held = await leased(first)
    renew_until = time.monotonic() + SHORT.total_seconds() * 1.5
    while time.monotonic() < renew_until:  # longer than a term, renewed ten times a term
        assert await first.extend_lease(held)
        assert await second.lease() is None
        await asyncio.sleep(SHORT.total_seconds() / 10)
    taken = await eventually(second.lease)  # no renewal: the lease runs out
    assert (taken.id, taken.payload, taken.attempt) == (held.id, "slow", 2)
    assert taken.lease_token != held.lease_token
    assert not await first.extend_lease(held)
    await first.complete(held)  # the stale holder changes nothing
    await first.retry(held, after=timedelta(0), error="late")
    await first.fail(held, error="late")
    assert (await second.stats()).leased == 1
    assert await second.extend_lease(taken)
    await second.complete(taken)
    assert not await second.extend_lease(taken)  # settled
    assert (await second.stats()).done == 1


async def test_an_expired_lease_is_recovered_by_the_same_queue(engine: Engine) -> None:
    queue = await engine.open(SHORT)
    await queue.enqueue(job("stalled"))
    first = await leased(queue)
    again = await eventually(queue.lease)
    assert (again.id, again.attempt) == (first.id, 2)
    assert again.waited >= 0.0


async def test_two_replicas_racing_for_jobs_run_each_once(engine: Engine) -> None:
    replicas = [await engine.open(), await engine.open()]
    count = 120
    for n in range(count):
        await replicas[0].enqueue(job(f"j{n}", serial_key=f"repo-{n % 7}"))
    ran: list[str] = []
    running: set[str] = set()

    async def consume(queue: Queue) -> None:
        idle_since = time.monotonic()
        while len(ran) < count and time.monotonic() - idle_since < DEADLINE:
            found = await queue.lease()
            if found is None:
                await asyncio.sleep(0.01)
                continue
            idle_since = time.monotonic()
            assert found.serial_key not in running, "two jobs of one serial key at once"
            running.add(found.serial_key or "")
            await asyncio.sleep(0)
            ran.append(found.payload)
            running.discard(found.serial_key or "")
            await queue.complete(found)

    await asyncio.gather(*(consume(q) for q in replicas for _ in range(3)))
    assert Counter(ran) == Counter(f"j{n}" for n in range(count))
    assert (await replicas[1].stats()).done == count


async def test_two_replicas_enqueueing_at_once_share_dedupe_and_coalesce_keys(
    engine: Engine,
) -> None:
    """A dedupe key is enqueued once across replicas (the schedulers' run-once rests on it);
    events of one coalesce key from both merge into one waiting job."""
    replicas = [await engine.open(), await engine.open()]
    once = await asyncio.gather(
        *(q.enqueue(job("tick", dedupe_key="reconcile@slot-1")) for q in replicas * 5)
    )
    assert sorted(once) == ["duplicate"] * 9 + ["enqueued"]
    merged = await asyncio.gather(
        *(
            q.enqueue(job(f"push-{n}", coalesce_key="image:1:api"))
            for n, q in enumerate(replicas * 5)
        )
    )
    assert sorted(merged) == ["coalesced"] * 9 + ["enqueued"]
    first, second = await leased(replicas[0]), await leased(replicas[1])
    assert {first.merged, second.merged} == {1, 10}


async def test_prune_deletes_finished_jobs_keys_and_deliveries(queue: Queue) -> None:
    assert await queue.accept_delivery(delivery(), None)
    await queue.enqueue(job("done", dedupe_key="k"))
    await queue.enqueue(job("waiting"))
    await queue.complete(await leased(queue))
    assert await queue.prune(timedelta(days=1)) == 0  # nothing is old enough
    await asyncio.sleep(0.01)
    assert await queue.prune(timedelta(0)) == 1
    assert await counts(queue) == QueueStats(ready=1)
    assert await queue.enqueue(job("again", dedupe_key="k")) == "enqueued"
    assert await queue.accept_delivery(delivery(), None)


async def test_postgres_commits_wait_for_the_disk_for_deliveries_only(database: str) -> None:
    """On PostgreSQL, bookkeeping commits without waiting for the disk (a lost one only runs a
    job again); a delivery's transaction waits."""
    queue = await PostgresJobQueue.open(database, pool_size=1)
    try:
        async with queue.connection() as conn:
            shown = await (await conn.execute("SHOW synchronous_commit")).fetchone()
        async with queue._durable() as conn:
            durable = await (await conn.execute("SHOW synchronous_commit")).fetchone()
    finally:
        await queue.close()
    assert (shown, durable) == (("off",), ("on",))
