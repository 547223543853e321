"""The write pace replicas share on PostgreSQL: one budget per installation whichever replica
spends it, the same windows as the in-process pace, installations apart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.adapters.pace_postgres import SharedWritePace
from bot.adapters.queue_postgres import PostgresJobQueue


@pytest.fixture
async def replicas(database: str) -> AsyncIterator[tuple[PostgresJobQueue, PostgresJobQueue]]:
    first = await PostgresJobQueue.open(database, pool_size=2)
    second = await PostgresJobQueue.open(database, pool_size=2)
    yield first, second
    await first.close()
    await second.close()


def pace(queue: PostgresJobQueue, installation_id: int = 1) -> SharedWritePace:
    # A minute of 60 s: the test's few seconds never see a write leave the window.
    return SharedWritePace(queue.connection, installation_id, per_minute=5, per_hour=8)


async def test_two_replicas_spend_one_budget(
    replicas: tuple[PostgresJobQueue, PostgresJobQueue],
) -> None:
    one, two = pace(replicas[0]), pace(replicas[1])
    assert await one.spend(3) is None
    assert await two.spend(2) is None  # 5 this minute, from both replicas
    wait = await one.spend(1)
    assert wait is not None and timedelta(seconds=55) < wait <= timedelta(seconds=60)
    assert await two.spend(1) is not None  # the other replica waits as long
    assert await pace(replicas[1], installation_id=2).spend(5) is None  # another installation


async def test_a_reservation_past_the_budget_takes_nothing(
    replicas: tuple[PostgresJobQueue, PostgresJobQueue],
) -> None:
    one = pace(replicas[0])
    assert await one.spend(4) is None
    assert await one.spend(3) is not None  # 4 + 3 > 5: none of the three counted
    assert await pace(replicas[1]).spend(1) is None  # the fifth still fits


async def test_spending_at_once_never_overspends(
    replicas: tuple[PostgresJobQueue, PostgresJobQueue],
) -> None:
    budgets = [pace(replicas[i % 2]) for i in range(12)]
    answers = await asyncio.gather(*(b.spend(1) for b in budgets))
    assert sum(answer is None for answer in answers) == 5
