"""The reconcile scheduler: every installation each pass, failures contained, rate-limited
installations left out until their wait is over, the queue's depth reported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.services.ports import QueueStats, RetryLater
from bot.services.scheduler import FreshInstallations, ReconcileScheduler


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Queue:
    """The one method of ``JobQueue`` the scheduler reads."""

    async def stats(self) -> QueueStats:
        return QueueStats(ready=2, leased=1)


class Installations:
    def __init__(self, *answers: tuple[int, ...] | Exception) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self) -> tuple[int, ...]:
        self.asked += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Reconcile:
    """Raises the scripted error for an installation, once; records every call."""

    def __init__(self, errors: dict[int, Exception]) -> None:
        self.errors = dict(errors)
        self.ran: list[int] = []

    async def __call__(self, installation_id: int) -> None:
        self.ran.append(installation_id)
        error = self.errors.pop(installation_id, None)
        if error is not None:
            raise error


def scheduler(
    reconcile: Reconcile,
    installations: Installations,
    clock: Clock,
    record_stats: Callable[[QueueStats], None] = lambda _: None,
) -> ReconcileScheduler:
    return ReconcileScheduler(
        reconcile,
        installations,
        Queue(),
        interval=60.0,
        record_stats=record_stats,
        stats_interval=0.01,
        clock=clock,
    )


@pytest.mark.parametrize(
    ("ids", "errors", "ran", "reconciled"),
    [
        ((1, 2, 3), {}, [1, 2, 3], 3),
        ((1, 2, 3), {2: RuntimeError("GitHub is away")}, [1, 2, 3], 2),
        ((1, 2), {1: RetryLater(timedelta(minutes=5))}, [1, 2], 1),
        ((), {}, [], 0),
    ],
)
async def test_a_pass_reconciles_every_installation(
    ids: tuple[int, ...], errors: dict[int, Exception], ran: list[int], reconciled: int
) -> None:
    reconcile = Reconcile(errors)
    assert await scheduler(reconcile, Installations(ids), Clock()).run_pass() == reconciled
    assert reconcile.ran == ran


async def test_listing_installations_failing_ends_the_pass_only() -> None:
    reconcile = Reconcile({})
    plan = scheduler(reconcile, Installations(RuntimeError("401"), (1,)), Clock())
    assert await plan.run_pass() == 0
    assert await plan.run_pass() == 1 and reconcile.ran == [1]


async def test_a_rate_limited_installation_waits_out_its_time() -> None:
    clock = Clock()
    reconcile = Reconcile({1: RetryLater(timedelta(seconds=300))})
    plan = scheduler(reconcile, Installations((1, 2)), clock)
    await plan.run_pass()
    clock.now = 299.0
    await plan.run_pass()
    clock.now = 300.0
    await plan.run_pass()
    assert reconcile.ran == [1, 2, 2, 1, 2]
    assert plan.deferred == {}


async def test_run_reconciles_at_start_reports_the_queue_and_stops() -> None:
    reported: list[QueueStats] = []
    reconcile = Reconcile({})
    plan = scheduler(reconcile, Installations((7,)), Clock(), record_stats=reported.append)
    stop = asyncio.Event()
    task = asyncio.create_task(plan.run(stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert reconcile.ran == [7]  # the clock stood still: no second pass was due
    assert len(reported) > 1 and reported[0] == QueueStats(ready=2, leased=1)


async def test_installations_are_read_after_each_question() -> None:
    fetch = Installations((1,), (1, 2), (1, 2, 3))
    fresh = FreshInstallations(fetch)
    assert await fresh() == (1,)
    assert await fresh() == (1, 2)  # installed a moment ago: seen at once, no cache to wait out
    assert fetch.asked == 2


async def test_questions_asked_during_a_read_share_the_next_one() -> None:
    release = asyncio.Event()
    answers = [(1,), (1, 2)]
    asked = 0

    async def fetch() -> tuple[int, ...]:
        nonlocal asked
        asked += 1
        await release.wait()
        return answers.pop(0)

    fresh = FreshInstallations(fetch)
    first = asyncio.create_task(fresh())
    await asyncio.sleep(0)  # the first read is in flight
    later = [asyncio.create_task(fresh()) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await first == (1,)
    assert await asyncio.gather(*later) == [(1, 2)] * 5  # not the read that started before them
    assert asked == 2


async def test_a_failed_read_is_not_shared_with_a_stale_answer() -> None:
    fetch = Installations((1,), RuntimeError("github is down"), (1, 2))
    fresh = FreshInstallations(fetch)
    assert await fresh() == (1,)
    with pytest.raises(RuntimeError):
        await fresh()
    assert await fresh() == (1, 2)
