"""The periodic passes, asked for as jobs, and the queue's depth reported in between.

Every replica runs a ``PassScheduler``. It does no pass itself: at start, then at each slot of
each pass's interval, it enqueues a ``PassDue`` per installation (``reconcile``) or one for the
App (``redeliver``). Slots are aligned on the epoch, so every replica names the same slot, and
the queue keeps one job per (pass, installation, slot): however many replicas ask, a pass runs
once, on whichever worker is free. A rate-limited installation's pass waits with its other jobs
(the queue's per-installation back-off, shared by all replicas), and a failed pass is retried
like any job. Nothing here is fatal: the scheduler runs until it is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from bot.core.inputs.events import PassDue
from bot.services.ports import QueueStats

log = logging.getLogger("bot.scheduler")

InstallationIds = Callable[[], Awaitable[tuple[int, ...]]]
Enqueue = Callable[[PassDue], Awaitable[object]]
Task = Literal["reconcile", "redeliver"]
WallClock = Callable[[], datetime]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# How often the queue's depth is reported when no reconcile pass is due.
STATS_INTERVAL_S = 15.0


class QueueStatsSource(Protocol):
    """The part of ``JobQueue`` the scheduler reads."""

    async def stats(self) -> QueueStats:
        """Counts by state."""


class FreshInstallations:
    """The App's installation ids from ``fetch``, never older than the question: every answer
    comes from a read that started after the call, so an installation made a moment ago is
    seen at once, by every replica, without waiting for its ``installation`` event. Callers
    that ask while a read is in flight wait for it, then share the next read."""

    def __init__(self, fetch: InstallationIds) -> None:
        self.fetch = fetch
        self._lock = asyncio.Lock()
        self._started = 0  # reads started so far
        self._ids: tuple[int, ...] = ()
        self._read = 0  # the number of the read ``_ids`` came from (0: none yet)

    async def __call__(self) -> tuple[int, ...]:
        asked = self._started
        async with self._lock:
            if self._read > asked:  # a read that started after the call has finished
                return self._ids
            self._started += 1
            number = self._started
            self._ids = await self.fetch()
            self._read = number
            return self._ids


def next_slot(now: datetime, interval: timedelta) -> datetime:
    """The first slot of ``interval`` after ``now``; slots are aligned on the epoch, so every
    replica computes the same ones."""
    elapsed = (now - EPOCH) // interval
    return EPOCH + (elapsed + 1) * interval


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PassScheduler:
    """Asks for each pass of ``intervals`` (task -> interval) at start, then at each of its
    slots; reports the queue's depth every ``stats_interval`` seconds."""

    def __init__(
        self,
        enqueue: Enqueue,
        installations: InstallationIds,
        queue: QueueStatsSource,
        *,
        intervals: Mapping[Task, timedelta],
        record_stats: Callable[[QueueStats], None] = lambda _: None,
        stats_interval: float = STATS_INTERVAL_S,
        clock: WallClock = _utcnow,
    ) -> None:
        self.enqueue = enqueue
        self.installations = installations
        self.queue = queue
        self.intervals = dict(intervals)
        self.record_stats = record_stats
        self.stats_interval = stats_interval
        self.clock = clock

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set. The first slot of each pass is the start itself: what webhooks
        missed while no bot ran is repaired at once."""
        start = self.clock()
        due = dict.fromkeys(self.intervals, start)
        while not stop.is_set():
            await self.report_queue()
            now = self.clock()
            for task, slot in due.items():
                if now >= slot:
                    await self.ask(task, slot)
                    due[task] = next_slot(now, self.intervals[task])
            wait = min(self.stats_interval, *((s - now).total_seconds() for s in due.values()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(wait, 0.0))

    async def report_queue(self) -> None:
        try:
            self.record_stats(await self.queue.stats())
        except Exception:
            log.exception("reading the queue's stats failed")

    async def ask(self, task: Task, slot: datetime) -> int:
        """Enqueue ``task``'s passes of ``slot``; how many were asked for."""
        if task == "redeliver":
            passes = [PassDue(task=task, slot=slot)]
        else:
            try:
                ids = await self.installations()
            except Exception:
                log.exception("listing the app's installations for task=%s failed", task)
                return 0
            passes = [PassDue(task=task, slot=slot, installation_id=i) for i in ids]
        asked = 0
        for due in passes:
            try:
                await self.enqueue(due)
            except Exception:
                log.exception("asking for pass=%s failed", due.dedupe_key)
                continue
            asked += 1
        return asked
