"""The SQLite job queue: durability, dedupe, coalescing, serialization, retries and throttles."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters import job_table, queue_sqlite
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.core.inputs.events import VersionSeen
from bot.services.ports import Delivery, NewJob, QueueStats
from tests.adapters.support import FakeClock, dead_jobs


def job(payload: str = "{}", **keys: object) -> NewJob:
    return NewJob(kind="event", payload=payload, **keys)  # type: ignore[arg-type]


def delivery(delivery_id: str = "d-1") -> Delivery:
    return Delivery(
        delivery_id=delivery_id,
        source="github",
        event="push",
        body=b'{"zen": 1}',
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        headers={"x-github-event": "push"},
    )


def test_wal_mode_checkpointed_every_10000_pages(queue: SqliteJobQueue, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert (
        queue._db.run(lambda: queue._db.conn.execute("PRAGMA wal_autocheckpoint").fetchone())[0]
        == 10_000
    )


async def test_delivery_is_stored_once_with_its_job(queue: SqliteJobQueue) -> None:
    assert await queue.accept_delivery(delivery(), job('{"n": 1}'))
    assert not await queue.accept_delivery(delivery(), job('{"n": 2}'))
    stored = await queue.get_delivery("d-1")
    assert stored == delivery()
    assert await queue.stats() == QueueStats(ready=1, deliveries=1)
    leased = await queue.lease()
    assert leased is not None and leased.payload == '{"n": 1}'
    assert await queue.get_delivery("unknown") is None


async def test_ignored_delivery_has_no_job(queue: SqliteJobQueue) -> None:
    assert await queue.accept_delivery(delivery(), None)
    assert await queue.lease() is None


async def test_leased_job_survives_a_restart(db_path: Path, clock: FakeClock) -> None:
    first = SqliteJobQueue(db_path, clock=clock)
    await first.enqueue(job("work"))
    leased = await first.lease()
    assert leased is not None and leased.attempt == 1
    first.close()  # the process dies without completing the job

    second = SqliteJobQueue(db_path, clock=clock)
    again = await second.lease()
    assert again is not None and (again.id, again.payload, again.attempt) == (leased.id, "work", 2)
    await second.complete(again)
    assert await second.stats() == QueueStats(done=1)
    second.close()


async def test_expired_lease_is_handed_out_again_and_stale_holder_changes_nothing(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(job("slow"))
    stale = await queue.lease()
    assert stale is not None and await queue.lease() is None
    clock.advance(minutes=6)  # past the five-minute visibility timeout
    fresh = await queue.lease()
    assert fresh is not None and fresh.id == stale.id
    await queue.complete(stale)
    assert (await queue.stats()).leased == 1
    await queue.complete(fresh)
    assert (await queue.stats()).done == 1


async def test_a_renewed_lease_keeps_the_job_and_a_lost_one_cannot_be_renewed(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(job("slow"))
    held = await queue.lease()
    assert held is not None
    for _ in range(3):  # 12 minutes of work, renewed every 4
        clock.advance(minutes=4)
        assert await queue.extend_lease(held)
        assert await queue.lease() is None
    clock.advance(minutes=6)  # no renewal: the lease runs out
    taken = await queue.lease()
    assert taken is not None and taken.id == held.id
    assert not await queue.extend_lease(held)  # the stale holder is fenced off
    assert await queue.extend_lease(taken)
    await queue.complete(taken)
    assert not await queue.extend_lease(taken)  # settled


async def test_same_dedupe_key_is_enqueued_once(queue: SqliteJobQueue) -> None:
    outcomes = [await queue.enqueue(job(dedupe_key="image:a:1@x")) for _ in range(3)]
    assert outcomes == ["enqueued", "duplicate", "duplicate"]


async def test_ten_pushes_coalesce_into_one_job_with_the_newest_payload(
    queue: SqliteJobQueue,
) -> None:
    outcomes = [
        await queue.enqueue(job(f"tag-{n}", dedupe_key=f"k{n}", coalesce_key="image:1:app"))
        for n in range(10)
    ]
    assert outcomes == ["enqueued"] + ["coalesced"] * 9
    leased = await queue.lease()
    assert leased is not None and (leased.payload, leased.merged) == ("tag-9", 10)
    assert await queue.lease() is None
    # A coalesced event's dedupe key still dedupes a redelivery.
    assert await queue.enqueue(job("again", dedupe_key="k3", coalesce_key="image:1:app")) == (
        "duplicate"
    )


async def test_every_version_seen_is_kept_whatever_becomes_of_its_job(
    queue: SqliteJobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coalescing keeps the newest payload only; the sightings it merged away stay on record
    (a tag pushed again keeps its newest digest), the newest ``VERSIONS_KEPT`` per subject."""
    monkeypatch.setattr(job_table, "VERSIONS_KEPT", 3)
    subject = "image:1:ghcr.io/acme/api"
    sightings = [("1.3.0", "sha256:a"), ("1.9.0", None), ("1.2.9", "sha256:c"), ("1.9.0", None)]
    outcomes = []
    for n, (tag, digest) in enumerate(sightings):
        seen = VersionSeen(subject, tag, digest)
        key = f"{tag}@{digest}"
        outcomes.append(
            await queue.enqueue(job(f"p{n}", dedupe_key=key, coalesce_key="c", seen=seen))
        )
    assert outcomes == ["enqueued", "coalesced", "coalesced", "duplicate"]
    await queue.enqueue(
        job("other", seen=VersionSeen("image:*:ghcr.io/acme/api", "1.9.0", "sha256:b"))
    )
    both = [subject, "image:*:ghcr.io/acme/api"]
    assert await queue.versions_seen(both) == {
        "1.3.0": "sha256:a",
        "1.2.9": "sha256:c",
        "1.9.0": "sha256:b",
    }
    await queue.enqueue(job("newer", seen=VersionSeen(subject, "2.0.0")))
    assert set(await queue.versions_seen([subject])) == {"1.2.9", "1.9.0", "2.0.0"}
    assert await queue.versions_seen(["image:2:ghcr.io/acme/api"]) == {}


async def test_a_leased_job_does_not_absorb_new_events(queue: SqliteJobQueue) -> None:
    await queue.enqueue(job("first", coalesce_key="c"))
    assert await queue.lease() is not None
    assert await queue.enqueue(job("second", coalesce_key="c")) == "enqueued"


async def test_jobs_of_one_serial_key_run_one_at_a_time(queue: SqliteJobQueue) -> None:
    for name, key in [("a1", "acme/env"), ("a2", "acme/env"), ("b1", "acme/other")]:
        await queue.enqueue(job(name, serial_key=key))
    first = await queue.lease()
    second = await queue.lease()
    assert first is not None and second is not None
    assert (first.payload, second.payload) == ("a1", "b1")
    assert await queue.lease() is None
    await queue.complete(first)
    third = await queue.lease()
    assert third is not None and third.payload == "a2"


async def test_retry_waits_for_its_delay(queue: SqliteJobQueue, clock: FakeClock) -> None:
    await queue.enqueue(job("flaky"))
    leased = await queue.lease()
    assert leased is not None
    await queue.retry(leased, after=timedelta(seconds=30), error="boom")
    assert await queue.lease() is None
    clock.advance(seconds=30)
    again = await queue.lease()
    assert again is not None and again.attempt == 2


async def test_throttled_installation_waits_without_blocking_others(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(job("limited-1", installation_id=1))
    await queue.enqueue(job("limited-2", installation_id=1))
    await queue.enqueue(job("other", installation_id=2))
    limited = await queue.lease()
    assert limited is not None and limited.payload == "limited-1"
    await queue.retry(
        limited, after=timedelta(minutes=10), error="rate limited", throttle_installation=True
    )
    other = await queue.lease()
    assert other is not None and other.payload == "other"
    assert await queue.lease() is None
    await queue.complete(other)
    clock.advance(minutes=10)
    resumed = {(await queue.lease()).payload, (await queue.lease()).payload}  # type: ignore[union-attr]
    assert resumed == {"limited-1", "limited-2"}


async def test_a_wait_counts_as_a_wait_not_an_attempt(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(job("waits", installation_id=1))
    for waits in range(3):
        leased = await queue.lease()
        assert leased is not None and (leased.attempt, leased.waits) == (1, waits)
        await queue.retry(leased, after=timedelta(seconds=5), error="w", throttle_installation=True)
        clock.advance(seconds=5)
    leased = await queue.lease()
    assert leased is not None
    await queue.retry(leased, after=timedelta(seconds=1), error="boom")
    clock.advance(seconds=1)
    leased = await queue.lease()
    assert leased is not None and (leased.attempt, leased.waits) == (2, 3)


async def test_a_queue_file_from_before_the_count_of_waits_gains_it(
    db_path: Path, clock: FakeClock
) -> None:
    queue = SqliteJobQueue(db_path, clock=clock)
    await queue.enqueue(job("old"))
    queue.close()
    conn = sqlite3.connect(db_path)
    conn.execute("ALTER TABLE jobs DROP COLUMN waits")
    conn.commit()
    conn.close()
    queue = SqliteJobQueue(db_path, clock=clock)
    leased = await queue.lease()
    assert leased is not None and (leased.payload, leased.waits) == ("old", 0)
    queue.close()


async def test_failed_job_is_dead_lettered_with_its_error(
    queue: SqliteJobQueue, db_path: Path
) -> None:
    await queue.enqueue(job("bad"))
    leased = await queue.lease()
    assert leased is not None
    await queue.fail(leased, error="payload of the wrong shape: pull_request.number")
    assert dead_jobs(db_path) == [
        (leased.id, "event", "payload of the wrong shape: pull_request.number")
    ]
    assert await queue.lease() is None


async def test_prune_forgets_old_finished_work(queue: SqliteJobQueue, clock: FakeClock) -> None:
    await queue.accept_delivery(delivery(), None)
    await queue.enqueue(job("done", dedupe_key="k"))
    leased = await queue.lease()
    assert leased is not None
    await queue.complete(leased)
    clock.advance(days=30)
    assert await queue.prune(timedelta(days=14)) == 1
    assert await queue.stats() == QueueStats()
    assert await queue.enqueue(job("done", dedupe_key="k")) == "enqueued"


@pytest.mark.parametrize("reclaim", [True, False])
async def test_reclaim_is_optional(db_path: Path, clock: FakeClock, reclaim: bool) -> None:
    first = SqliteJobQueue(db_path, clock=clock)
    await first.enqueue(job())
    assert await first.lease() is not None
    first.close()
    second = SqliteJobQueue(db_path, clock=clock, reclaim_leases=reclaim)
    assert (await second.lease() is not None) is reclaim
    second.close()


async def test_concurrent_deliveries_commit_together_and_dedupe(queue: SqliteJobQueue) -> None:
    ids = [f"d-{n % 40}" for n in range(60)]  # the last 20 redeliver the first 20
    results = await asyncio.gather(*(queue.accept_delivery(delivery(i), job(i)) for i in ids))
    assert results == [True] * 40 + [False] * 20
    assert await queue.stats() == QueueStats(ready=40, deliveries=40)


async def test_delivery_jobs_with_keys_dedupe_and_coalesce(queue: SqliteJobQueue) -> None:
    keyed = [job(f"p{n}", dedupe_key="same", coalesce_key="c") for n in range(2)]
    assert await queue.accept_delivery(delivery("a"), keyed[0])
    assert await queue.accept_delivery(delivery("b"), keyed[1])
    assert await queue.accept_delivery(
        delivery("c"), job("p2", dedupe_key="other", coalesce_key="c")
    )
    leased = await queue.lease()
    assert leased is not None and (leased.payload, leased.merged) == ("p2", 2)
    assert await queue.lease() is None


@pytest.mark.parametrize(
    ("case", "ids", "stored_before", "new"),
    [
        ("all new, more rows than one statement holds", [f"n-{i}" for i in range(400)], [], 400),
        ("a redelivery among new ones", ["x", "old", "y"], ["old"], 2),
        ("one id twice in one batch", ["x", "x", "y"], [], 2),
        ("only redeliveries", ["old"], ["old"], 0),
    ],
)
async def test_a_batch_stores_each_new_id_once_with_its_job(
    queue: SqliteJobQueue, case: str, ids: list[str], stored_before: list[str], new: int
) -> None:
    for delivery_id in stored_before:
        assert await queue.accept_delivery(delivery(delivery_id), job(delivery_id))
    results = await asyncio.gather(*(queue.accept_delivery(delivery(i), job(i)) for i in ids))
    firsts = [i not in stored_before and i not in ids[:n] for n, i in enumerate(ids)]
    assert results == firsts and sum(results) == new
    total = len(stored_before) + new
    assert await queue.stats() == QueueStats(ready=total, deliveries=total)


async def test_an_acknowledgement_follows_its_full_sync_commit(queue: SqliteJobQueue) -> None:
    """``accept_delivery`` returns only after the transaction holding the delivery and its job
    has committed with ``synchronous=FULL`` (the commit waits for the fsync)."""
    statements: list[str] = []
    queue._db.run(lambda: queue._db.conn.set_trace_callback(statements.append))
    assert await queue.accept_delivery(delivery("a"), job())
    answered = len(statements)
    queue._db.run(lambda: queue._db.conn.set_trace_callback(None))
    words = [s.split(" (")[0] for s in statements[:answered]]
    assert words[:3] == ["PRAGMA synchronous=FULL", "BEGIN IMMEDIATE", "INSERT INTO deliveries"]
    assert words[-3:-1] == ["INSERT INTO jobs", "COMMIT"]
    assert words[-1] == "PRAGMA synchronous=NORMAL"


async def test_deliveries_arriving_together_share_one_commit(queue: SqliteJobQueue) -> None:
    """Group commit: the deliveries of one event-loop pass go in one transaction, and those
    arriving while it commits go in the next."""
    statements: list[str] = []
    queue._db.run(lambda: queue._db.conn.set_trace_callback(statements.append))
    first = [queue.accept_delivery(delivery(f"a-{n}"), job()) for n in range(50)]
    together = asyncio.gather(*first)
    await asyncio.sleep(0)  # the first pass: the fifty are waiting, their commit starts
    later = asyncio.gather(*(queue.accept_delivery(delivery(f"b-{n}"), job()) for n in range(50)))
    assert await together == [True] * 50 and await later == [True] * 50
    queue._db.run(lambda: queue._db.conn.set_trace_callback(None))
    assert statements.count("COMMIT") == 2


async def test_a_failed_commit_answers_every_waiting_delivery_and_stores_none(
    queue: SqliteJobQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = queue_sqlite.store_deliveries

    def full(conn: sqlite3.Connection, *args: object) -> list[bool]:
        store(conn, *args)  # type: ignore[arg-type]
        raise OSError(errno.ENOSPC, "No space left on device")  # rolled back

    monkeypatch.setattr(queue_sqlite, "store_deliveries", full)
    results = await asyncio.gather(
        *(queue.accept_delivery(delivery(f"d-{n}"), job()) for n in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(r, OSError) and r.errno == errno.ENOSPC for r in results)
    assert await queue.stats() == QueueStats()
    monkeypatch.undo()  # the disk has room again: GitHub's retries are accepted
    retries = [queue.accept_delivery(delivery(f"d-{n}"), job()) for n in range(5)]
    assert await asyncio.gather(*retries) == [True] * 5
    assert await queue.stats() == QueueStats(ready=5, deliveries=5)


async def test_oldest_ready_age_counts_due_jobs_only(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    assert (await queue.stats()).oldest_ready_age == 0.0
    await queue.enqueue(job("first"))
    clock.advance(seconds=30)
    await queue.enqueue(job("second"))
    clock.advance(seconds=15)
    assert (await queue.stats()).oldest_ready_age == 45.0
    first = await queue.lease()
    assert first is not None and first.payload == "first"
    assert (await queue.stats()).oldest_ready_age == 15.0
    await queue.retry(first, after=timedelta(minutes=5), error="later")
    second = await queue.lease()
    assert second is not None
    assert (await queue.stats()).oldest_ready_age == 0.0  # "first" waits out its backoff
    clock.advance(minutes=6)
    assert (await queue.stats()).oldest_ready_age == 60.0  # due for a minute now


async def test_a_leased_job_says_how_long_it_was_ready(db_path: Path, clock: FakeClock) -> None:
    queue = SqliteJobQueue(db_path, clock=clock)
    await queue.enqueue(job("work"))
    clock.advance(seconds=30)
    leased = await queue.lease()
    assert leased is not None and leased.waited == 30.0  # since it was enqueued
    await queue.retry(leased, after=timedelta(seconds=10), error="later")
    clock.advance(seconds=25)
    leased = await queue.lease()
    assert leased is not None and leased.waited == 15.0  # since its retry fell due
    clock.advance(minutes=5, seconds=20)
    leased = await queue.lease()
    assert leased is not None and leased.waited == 20.0  # since its lease expired
    queue.close()  # the process dies holding the lease, live for 5 more minutes
    clock.advance(minutes=1)
    queue = SqliteJobQueue(db_path, clock=clock)  # reclaims it
    clock.advance(seconds=7)
    leased = await queue.lease()
    assert leased is not None and leased.waited == 7.0  # since it was reclaimed
    queue.close()  # and again, but the next start is after the lease expired
    clock.advance(minutes=9)
    queue = SqliteJobQueue(db_path, clock=clock)
    leased = await queue.lease()
    assert leased is not None and leased.waited == 240.0  # since its lease expired
    queue.close()


async def test_a_redelivery_after_a_restart_is_a_duplicate(db_path: Path, clock: FakeClock) -> None:
    first = SqliteJobQueue(db_path, clock=clock)
    assert await first.accept_delivery(delivery("a"), job())
    first.close()
    second = SqliteJobQueue(db_path, clock=clock)
    assert not await second.accept_delivery(delivery("a"), job())
    assert await second.stats() == QueueStats(ready=1, deliveries=1)
    second.close()


async def test_prune_keeps_deliveries_younger_than_the_cutoff(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.accept_delivery(delivery("old"), None)
    clock.advance(days=30)
    await queue.accept_delivery(replace(delivery("new"), received_at=clock()), None)
    await queue.prune(timedelta(days=14))
    assert await queue.get_delivery("old") is None
    assert await queue.get_delivery("new") == replace(delivery("new"), received_at=clock())
    assert not await queue.accept_delivery(replace(delivery("new"), received_at=clock()), None)


async def test_one_batch_larger_than_a_statement_goes_in_whole(queue: SqliteJobQueue) -> None:
    ids = [f"d-{n}" for n in range(400)]
    assert all(await asyncio.gather(*(queue.accept_delivery(delivery(i), job()) for i in ids)))
    assert await queue.stats() == QueueStats(ready=400, deliveries=400)


async def test_a_queue_file_from_the_spool_version_opens_and_takes_deliveries(
    db_path: Path, clock: FakeClock
) -> None:
    """ADR 0001's queue file: bodies in a spool, the row's own body empty, where it lay in
    three more columns; the file opens as it is and new deliveries keep their bodies in it."""
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE deliveries (delivery_id TEXT PRIMARY KEY, source TEXT NOT NULL, "
        "event TEXT NOT NULL, status TEXT NOT NULL, received_at REAL NOT NULL, "
        "headers TEXT NOT NULL, body BLOB NOT NULL, spool_segment INTEGER, "
        "spool_offset INTEGER, spool_length INTEGER)"
    )
    conn.execute(
        "INSERT INTO deliveries VALUES ('old', 'github', 'push', 'queued', 0, '{}', x'', 1, 0, 9)"
    )
    conn.commit()
    conn.close()
    queue = SqliteJobQueue(db_path, clock=clock)
    try:
        assert not await queue.accept_delivery(delivery("old"), job())  # still deduped
        assert await queue.accept_delivery(delivery("new"), job())
        assert await queue.get_delivery("new") == delivery("new")
    finally:
        queue.close()
