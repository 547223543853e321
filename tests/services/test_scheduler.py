"""The pass scheduler: slots every replica agrees on, one pass asked per installation and slot,
failures contained, the queue's depth reported."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.inputs.events import PassDue
from bot.services.ports import QueueStats
from bot.services.scheduler import FreshInstallations, PassScheduler, Task, next_slot

START = datetime(2026, 12, 6, 10, 17, 30, tzinfo=UTC)


class Queue:
    """The one method of ``JobQueue`` the scheduler reads, and what it was asked to enqueue;
    like the real queue, a second pass of one dedupe key is dropped."""

    def __init__(self) -> None:
        self.asked: list[PassDue] = []

    async def stats(self) -> QueueStats:
        return QueueStats(ready=2, leased=1)

    async def enqueue(self, due: PassDue) -> None:
        if due.dedupe_key not in {p.dedupe_key for p in self.asked}:
            self.asked.append(due)


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


def scheduler(
    queue: Queue,
    installations: Installations,
    clock: list[datetime],
    intervals: dict[Task, timedelta] | None = None,
    reported: list[QueueStats] | None = None,
) -> PassScheduler:
    return PassScheduler(
        queue.enqueue,
        installations,
        queue,
        intervals=intervals or {"reconcile": timedelta(hours=1)},
        record_stats=(reported if reported is not None else []).append,
        stats_interval=0.01,
        clock=lambda: clock[0],
    )


@pytest.mark.parametrize(
    ("now", "interval", "slot"),
    [
        (START, timedelta(hours=1), datetime(2026, 12, 6, 11, tzinfo=UTC)),
        (
            datetime(2026, 12, 6, 11, tzinfo=UTC),
            timedelta(hours=1),
            datetime(2026, 12, 6, 12, tzinfo=UTC),
        ),
        (START, timedelta(minutes=30), datetime(2026, 12, 6, 10, 30, tzinfo=UTC)),
        (START, timedelta(seconds=20), datetime(2026, 12, 6, 10, 17, 40, tzinfo=UTC)),
    ],
)
def test_slots_are_aligned_on_the_epoch(now: datetime, interval: timedelta, slot: datetime) -> None:
    assert next_slot(now, interval) == slot


@pytest.mark.parametrize(
    ("ids", "asked"),
    [((1, 2, 3), [1, 2, 3]), ((), []), (RuntimeError("401"), [])],
)
async def test_a_reconcile_slot_asks_one_pass_per_installation(
    ids: tuple[int, ...] | Exception, asked: list[int]
) -> None:
    queue = Queue()
    count = await scheduler(queue, Installations(ids), [START]).ask("reconcile", START)
    assert count == len(asked)
    assert [p.installation_id for p in queue.asked] == asked
    assert {(p.task, p.slot) for p in queue.asked} <= {("reconcile", START)}


async def test_a_redeliver_slot_asks_one_pass_for_the_app() -> None:
    queue = Queue()
    installations = Installations((1, 2))
    assert await scheduler(queue, installations, [START]).ask("redeliver", START) == 1
    assert [(p.task, p.installation_id) for p in queue.asked] == [("redeliver", None)]
    assert installations.asked == 0


async def test_two_replicas_asking_for_a_slot_make_one_pass_each() -> None:
    queue = Queue()
    for _ in range(2):
        await scheduler(queue, Installations((1, 2)), [START]).ask("reconcile", START)
    assert [p.installation_id for p in queue.asked] == [1, 2]


async def test_run_asks_at_start_then_at_each_slot_and_reports_the_queue() -> None:
    queue, clock = Queue(), [START]
    reported: list[QueueStats] = []
    intervals: dict[Task, timedelta] = {
        "reconcile": timedelta(hours=1),
        "redeliver": timedelta(minutes=30),
    }
    plan = scheduler(queue, Installations((7,)), clock, intervals, reported)
    stop = asyncio.Event()
    task = asyncio.create_task(plan.run(stop))
    await asyncio.sleep(0.05)
    clock[0] = datetime(2026, 12, 6, 10, 30, tzinfo=UTC)  # a redeliver slot only
    await asyncio.sleep(0.05)
    clock[0] = datetime(2026, 12, 6, 11, 0, 1, tzinfo=UTC)  # both
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert [(p.task, p.slot.time().isoformat()) for p in queue.asked] == [
        ("reconcile", "10:17:30"),
        ("redeliver", "10:17:30"),
        ("redeliver", "10:30:00"),
        ("reconcile", "11:00:00"),
        ("redeliver", "11:00:00"),
    ]
    assert len(reported) > 1 and reported[0] == QueueStats(ready=2, leased=1)


async def test_a_failing_enqueue_does_not_stop_the_others() -> None:
    queue = Queue()
    calls: list[int | None] = []

    async def enqueue(due: PassDue) -> None:
        calls.append(due.installation_id)
        if due.installation_id == 1:
            raise RuntimeError("database is away")
        await queue.enqueue(due)

    plan = scheduler(queue, Installations((1, 2)), [START])
    plan.enqueue = enqueue
    assert await plan.ask("reconcile", START) == 1
    assert calls == [1, 2] and [p.installation_id for p in queue.asked] == [2]


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
