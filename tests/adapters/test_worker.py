"""The job runner: outcomes of a handler become complete, retry with backoff, or dead letter."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters import metrics
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import RetryPolicy, Worker, job_log_fields
from bot.services.ports import Job, JobRejected, NewJob, RetryLater
from tests.adapters.support import FakeClock, dead_jobs, drain


class Script:
    """A handler that raises the scripted exception for each payload, then succeeds."""

    def __init__(self, plan: dict[str, list[Exception]]) -> None:
        self.plan = plan
        self.ran: list[tuple[str, int]] = []

    async def __call__(self, job: Job) -> None:
        self.ran.append((job.payload, job.attempt))
        errors = self.plan.get(job.payload, [])
        if errors:
            raise errors.pop(0)


def no_jitter() -> float:
    return 1.0  # the top of the jitter range: delay = base * 2**(attempt-1)


@pytest.mark.parametrize(
    ("attempt", "jitter", "seconds"),
    [(1, 1.0, 2), (2, 1.0, 4), (3, 1.0, 8), (10, 1.0, 900), (1, 0.5, 1.5), (3, 0.0, 4)],
)
def test_backoff_doubles_up_to_the_cap(attempt: int, jitter: float, seconds: float) -> None:
    policy = RetryPolicy(jitter=lambda: jitter)
    assert policy.delay(attempt) == timedelta(seconds=seconds)


async def test_success_completes(queue: SqliteJobQueue) -> None:
    await queue.enqueue(NewJob(kind="event", payload="ok"))
    handler = Script({})
    assert await drain(Worker(queue, handler)) == 1
    assert (await queue.stats()).done == 1


async def test_error_retries_with_backoff_then_succeeds(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(NewJob(kind="event", payload="flaky"))
    handler = Script({"flaky": [RuntimeError("boom")]})
    worker = Worker(queue, handler, policy=RetryPolicy(jitter=no_jitter))
    assert await drain(worker) == 1
    clock.advance(seconds=1.9)
    assert await drain(worker) == 0
    clock.advance(seconds=0.1)
    assert await drain(worker) == 1
    assert handler.ran == [("flaky", 1), ("flaky", 2)]
    assert (await queue.stats()).done == 1


async def test_max_attempts_dead_letters_with_the_error(
    queue: SqliteJobQueue, clock: FakeClock, db_path: Path
) -> None:
    await queue.enqueue(NewJob(kind="event", payload="broken"))
    handler = Script({"broken": [RuntimeError(f"boom {n}") for n in range(5)]})
    worker = Worker(queue, handler, policy=RetryPolicy(max_attempts=3, jitter=no_jitter))
    for _ in range(3):
        await drain(worker)
        clock.advance(hours=1)
    assert len(handler.ran) == 3
    assert [e for _, _, e in dead_jobs(db_path)] == ["RuntimeError: boom 2"]


async def test_rejected_job_is_not_retried(queue: SqliteJobQueue, db_path: Path) -> None:
    await queue.enqueue(NewJob(kind="event", payload="bad"))
    handler = Script({"bad": [JobRejected("payload of the wrong shape: number")]})
    await drain(Worker(queue, handler))
    assert dead_jobs(db_path) == [(1, "event", "payload of the wrong shape: number")]


async def test_retry_later_holds_its_installation_but_not_others(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    for payload, installation in [("a1", 1), ("a2", 1), ("b1", 2)]:
        await queue.enqueue(NewJob(kind="event", payload=payload, installation_id=installation))
    handler = Script({"a1": [RetryLater(timedelta(minutes=2), "secondary rate limit")]})
    worker = Worker(queue, handler)
    await drain(worker)
    assert handler.ran == [("a1", 1), ("b1", 1)]
    clock.advance(minutes=2)
    await drain(worker)
    assert handler.ran[2:] == [("a1", 1), ("a2", 1)]  # a wait is not an attempt
    assert (await queue.stats()).done == 3


async def test_waits_do_not_use_up_attempts(queue: SqliteJobQueue, clock: FakeClock) -> None:
    await queue.enqueue(NewJob(kind="event", payload="limited", installation_id=1))
    waits: list[Exception] = [RetryLater(timedelta(minutes=1), "limit") for _ in range(10)]
    handler = Script({"limited": [*waits, RuntimeError("boom")]})
    worker = Worker(queue, handler, policy=RetryPolicy(max_attempts=3, jitter=no_jitter))
    for _ in range(12):
        await drain(worker)
        clock.advance(minutes=1)
    assert handler.ran[-2:] == [("limited", 1), ("limited", 2)]
    assert (await queue.stats()).done == 1


async def test_a_job_that_waits_forever_is_dead_lettered_with_the_reason(
    queue: SqliteJobQueue, clock: FakeClock, db_path: Path
) -> None:
    await queue.enqueue(NewJob(kind="event", payload="unknown", installation_id=1))
    reason = "GitHub is computing mergeability repo=acme/env number=1"
    handler = Script({"unknown": [RetryLater(timedelta(seconds=5), reason) for _ in range(99)]})
    worker = Worker(queue, handler)  # the default policy: 20 waits
    for _ in range(30):
        await drain(worker)
        clock.advance(seconds=5)
    assert len(handler.ran) == 21
    assert [e for _, _, e in dead_jobs(db_path)] == [
        f"gave up after waits=20: {reason}; retry after 5s"
    ]


async def test_crash_loop_is_dead_lettered(db_path: Path, clock: FakeClock) -> None:
    for _ in range(3):  # each process leases the job and dies
        q = SqliteJobQueue(db_path, clock=clock)
        if (await q.stats()).ready == 0 and (await q.stats()).leased == 0:
            await q.enqueue(NewJob(kind="event", payload="poison"))
        assert await q.lease() is not None
        q.close()
    q = SqliteJobQueue(db_path, clock=clock)
    handler = Script({})
    await drain(Worker(q, handler, policy=RetryPolicy(max_attempts=3)))
    assert handler.ran == []
    assert [e for _, _, e in dead_jobs(db_path)] == ["gave up after attempts=3"]
    q.close()


async def test_run_loops_until_stopped(queue: SqliteJobQueue) -> None:
    handler = Script({})
    worker = Worker(queue, handler, concurrency=2, poll_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await queue.enqueue(NewJob(kind="event", payload="late"))
    worker.wake()
    for _ in range(200):
        if handler.ran:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert handler.ran == [("late", 1)]


def job_count(kind: str, outcome: str) -> float:
    labels = {"kind": kind, "outcome": outcome}
    value = metrics.REGISTRY.get_sample_value("promotion_bot_job_duration_seconds_count", labels)
    return 0.0 if value is None else value


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "done"),
        (RetryLater(timedelta(minutes=1)), "wait"),
        (JobRejected("wrong shape"), "dead"),
        (RuntimeError("boom"), "retry"),
    ],
)
async def test_each_outcome_is_timed(
    queue: SqliteJobQueue, error: Exception | None, outcome: str
) -> None:
    await queue.enqueue(NewJob(kind="delivery", payload="x"))
    before = job_count("delivery", outcome)
    await drain(Worker(queue, Script({"x": [error] if error else []})))
    assert job_count("delivery", outcome) - before == 1


def delivery_waits() -> list[float]:
    """The wait histogram of delivery jobs: count, sum, and the buckets up to 15 s and 60 s."""
    name = "promotion_bot_job_wait_seconds"
    samples = [
        ("_count", {}),
        ("_sum", {}),
        ("_bucket", {"le": "15.0"}),
        ("_bucket", {"le": "60.0"}),
    ]
    values = [
        metrics.REGISTRY.get_sample_value(name + s, {"kind": "delivery", **le}) for s, le in samples
    ]
    return [0.0 if value is None else value for value in values]


async def test_the_wait_of_a_leased_job_is_observed(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue(NewJob(kind="delivery", payload="x"))
    clock.advance(seconds=42)
    before = delivery_waits()
    await drain(Worker(queue, Script({})))
    added = [after - was for after, was in zip(delivery_waits(), before, strict=True)]
    assert added == [1, pytest.approx(42), 0, 1]


@pytest.mark.parametrize(
    ("job", "fields"),
    [
        (
            Job(1, "delivery", '{"delivery_id": "d-1", "installation_id": 5}', 1, "t"),
            {"job_id": 1, "installation_id": None, "repo": None, "delivery_id": "d-1"},
        ),
        (
            Job(
                2,
                "event",
                '{"delivery_id": "d-2", "kind": "pull_closed", "installation_id": 7}',
                1,
                "t",
                serial_key="acme/env",
                installation_id=7,
            ),
            {"job_id": 2, "installation_id": 7, "repo": "acme/env", "delivery_id": "d-2"},
        ),
        (Job(3, "event", "not json", 1, "t"), {"job_id": 3, "installation_id": None, "repo": None}),
    ],
)
def test_job_log_fields(job: Job, fields: dict[str, object]) -> None:
    found = job_log_fields(job)
    assert {k: v for k, v in found.items() if k != "event"} == fields


async def test_job_lines_carry_the_context(
    queue: SqliteJobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    payload = '{"delivery_id": "d-9", "kind": "image_pushed"}'
    await queue.enqueue(
        NewJob(kind="event", payload=payload, serial_key="acme/env", installation_id=4)
    )
    with caplog.at_level("INFO", logger="bot.worker"):
        await drain(Worker(queue, Script({})))
    [record] = caplog.records
    context = (record.job_id, record.delivery_id, record.installation_id, record.repo)  # type: ignore[attr-defined]
    assert context == (1, "d-9", 4, "acme/env")
    assert record.event == "image_pushed"  # type: ignore[attr-defined]


class Slow:
    """A handler that takes ``seconds`` and counts how many of its runs overlap."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.running = 0
        self.most = 0
        self.runs = 0

    async def __call__(self, job: Job) -> None:
        self.runs += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.running -= 1


async def test_a_job_outliving_its_lease_is_not_leased_twice(db_path: Path) -> None:
    queue = SqliteJobQueue(db_path, lease=timedelta(seconds=0.3))  # the real clock
    try:
        await queue.enqueue(NewJob(kind="event", payload="slow"))
        handler = Slow(seconds=1.2)  # four lease terms
        worker = Worker(queue, handler, concurrency=3, poll_interval=0.02)
        stop = asyncio.Event()
        loops = asyncio.create_task(worker.run(stop))
        for _ in range(200):
            await asyncio.sleep(0.02)
            if (await queue.stats()).done:
                break
        stop.set()
        await loops
        assert (handler.runs, handler.most) == (1, 1)
        assert (await queue.stats()).done == 1
    finally:
        queue.close()


async def test_a_lost_lease_cancels_the_handler_and_settles_nothing(
    queue: SqliteJobQueue, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await queue.enqueue(NewJob(kind="event", payload="stalled"))
    cancelled = asyncio.Event()

    async def stalled(job: Job) -> None:
        clock.advance(minutes=6)  # the event loop stood still past the 5-minute lease
        assert await queue.lease() is not None  # and another worker took the job
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    worker = Worker(queue, stalled, heartbeat=0.01)
    with caplog.at_level("ERROR", logger="bot.worker"):
        assert await drain(worker, limit=1) == 1
    assert cancelled.is_set()
    assert (await queue.stats()).leased == 1  # still the new holder's
    assert "lease lost" in caplog.text
