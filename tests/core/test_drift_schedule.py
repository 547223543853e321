"""The drift audit's schedule: cron slots with a stable jitter per repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.drift.schedule import JITTER, due, jitter

MONDAY_6 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def test_jitter_is_stable_and_within_its_spread() -> None:
    assert jitter("acme/gitops") == jitter("acme/gitops")
    offsets = {jitter(f"acme/repo-{n}") for n in range(50)}
    assert len(offsets) > 10 and all(timedelta(0) <= o < JITTER for o in offsets)


@pytest.mark.parametrize(
    ("since", "now", "expected"),
    [
        (MONDAY_6 - timedelta(hours=1), MONDAY_6 + JITTER, True),  # the slot and its jitter passed
        (MONDAY_6 + JITTER, MONDAY_6 + timedelta(hours=1), False),  # already audited
        (MONDAY_6 - timedelta(days=2), MONDAY_6 - timedelta(days=1), False),  # the weekend
    ],
)
def test_due_when_a_moved_slot_falls_in_the_window(
    since: datetime, now: datetime, expected: bool
) -> None:
    assert due("0 6 * * 1-5", since=since, now=now, key="acme/gitops") is expected


def test_every_slot_is_due_in_exactly_one_window() -> None:
    start = MONDAY_6 - timedelta(days=1)
    windows = [(start + timedelta(hours=h), start + timedelta(hours=h + 1)) for h in range(72)]
    hits = [w for w in windows if due("0 6 * * *", since=w[0], now=w[1], key="acme/x")]
    assert len(hits) == 3
