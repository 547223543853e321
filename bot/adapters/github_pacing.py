"""Per-installation pacing of GitHub calls: content-creating requests under GitHub's secondary
limits, and the growing wait after a secondary limit was hit anyway.

GitHub's figures (docs: rate limits for the REST API): at most 80 content-creating requests a
minute and 500 an hour; after a secondary limit without ``retry-after``, wait at least a minute,
then back off exponentially.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
WRITES_PER_MINUTE = 80
WRITES_PER_HOUR = 500
# GitHub counts a write when it arrives, the pace when it is sent: the time between (the event
# loop, the connection) must not let 81 arrive within one of GitHub's minutes. ``from_settings``
# paces with this margin; a write counts as sent that much later.
SEND_MARGIN_S = 0.5
SECONDARY_WAIT = timedelta(minutes=1)
SECONDARY_WAIT_CAP = timedelta(minutes=15)


def wait_for(
    sent: Sequence[float], now: float, count: int, *, per_minute: int, per_hour: int, scale: float
) -> float:
    """Seconds until ``count`` more writes fit both windows (0: now), given the times ``sent``
    (oldest first, none older than the hour) of the writes already counted."""
    minute, hour = 60 * scale, 3600 * scale
    wait = 0.0
    if len(sent) + count > per_hour:  # the oldest ones must leave the hour first
        wait = sent[len(sent) + count - per_hour - 1] + hour - now
    if len(sent) + count > per_minute:
        wait = max(wait, sent[len(sent) + count - per_minute - 1] + minute - now)
    return wait


@dataclass
class WritePace:
    """A sliding minute and hour of the writes sent; ``take`` spends one or says how long to
    wait. ``clock`` is in seconds (monotonic). ``window_scale`` shortens the minute and the hour
    alike: tests compress time with it (and the sandbox's windows by the same factor). A write
    counts as sent ``margin`` seconds after ``take`` (``SEND_MARGIN_S``). One process's budget;
    replicas on PostgreSQL share theirs (``bot.adapters.pace_postgres``)."""

    per_minute: int = WRITES_PER_MINUTE
    per_hour: int = WRITES_PER_HOUR
    window_scale: float = 1.0
    margin: float = 0.0
    clock: Callable[[], float] = time.monotonic
    _sent: deque[float] = field(default_factory=deque)

    def take(self, count: int = 1) -> timedelta | None:
        """Count ``count`` writes sent now (``None``), or the wait until the budget allows them
        all (and count nothing). ``count`` is at most a minute's budget."""
        count = min(count, self.per_minute)
        now = self.clock()
        while self._sent and self._sent[0] <= now - 3600 * self.window_scale:
            self._sent.popleft()
        wait = wait_for(
            self._sent,
            now,
            count,
            per_minute=self.per_minute,
            per_hour=self.per_hour,
            scale=self.window_scale,
        )
        if wait > 0:
            return timedelta(seconds=wait)
        self._sent.extend([now + self.margin] * count)
        return None

    async def spend(self, count: int = 1) -> timedelta | None:
        """``take``, as ``WriteBudget`` asks."""
        return self.take(count)


class WriteBudget(Protocol):
    """An installation's budget of content-creating requests (``WritePace``'s figures)."""

    per_minute: int
    window_scale: float

    async def spend(self, count: int = 1) -> timedelta | None:
        """Count ``count`` writes sent now (``None``), or the wait before they all fit."""


@dataclass
class SecondaryBackoff:
    """The wait after each secondary limit in a row: ``first``, doubling up to ``cap``; never
    shorter than GitHub's ``retry-after``. ``reset`` after a success."""

    first: timedelta = SECONDARY_WAIT
    cap: timedelta = SECONDARY_WAIT_CAP
    strikes: int = 0

    def next_wait(self, asked: timedelta = timedelta(0)) -> timedelta:
        wait: timedelta = min(self.cap, self.first * 2 ** min(self.strikes, 16))
        self.strikes += 1
        return max(asked, wait)

    def reset(self) -> None:
        self.strikes = 0
