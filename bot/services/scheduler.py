"""The periodic jobs: reconcile every installation every ``interval`` seconds, and report the
queue's depth in between.

A failing installation is logged and the pass goes on with the next one; one that is rate
limited (``RetryLater``) is left out of the passes until its wait is over. Nothing here is
fatal: the scheduler runs until it is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.services.ports import QueueStats, RetryLater

log = logging.getLogger("bot.scheduler")

InstallationIds = Callable[[], Awaitable[tuple[int, ...]]]
Reconcile = Callable[[int], Awaitable[object]]
Monotonic = Callable[[], float]

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


class ReconcileScheduler:
    """Runs ``reconcile(installation_id)`` for every installation every ``interval`` seconds
    (the first pass at start: webhooks lost while the bot was down are repaired at once)."""

    def __init__(
        self,
        reconcile: Reconcile,
        installations: InstallationIds,
        queue: QueueStatsSource,
        *,
        interval: float,
        record_stats: Callable[[QueueStats], None] = lambda _: None,
        stats_interval: float = STATS_INTERVAL_S,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.reconcile = reconcile
        self.installations = installations
        self.queue = queue
        self.interval = interval
        self.record_stats = record_stats
        self.stats_interval = stats_interval
        self.clock = clock
        self.deferred: dict[int, float] = {}  # installation -> clock() when it may run again

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set."""
        due = self.clock()
        while not stop.is_set():
            await self.report_queue()
            if self.clock() >= due:
                await self.run_pass()
                due = self.clock() + self.interval
            wait = min(self.stats_interval, max(due - self.clock(), 0.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def report_queue(self) -> None:
        try:
            self.record_stats(await self.queue.stats())
        except Exception:
            log.exception("reading the queue's stats failed")

    async def run_pass(self) -> int:
        """Reconcile every installation that is not waiting; how many were reconciled."""
        try:
            ids = await self.installations()
        except Exception:
            log.exception("listing the app's installations for reconciling failed")
            return 0
        ran = 0
        for installation_id in ids:
            if self.deferred.get(installation_id, 0.0) > self.clock():
                log.info(
                    "reconcile waits installation_id=%d: rate limited",
                    installation_id,
                    extra={"installation_id": installation_id},
                )
                continue
            ran += await self._reconcile(installation_id)
        return ran

    async def _reconcile(self, installation_id: int) -> int:
        context = {"installation_id": installation_id}
        try:
            await self.reconcile(installation_id)
        except RetryLater as signal:
            self.deferred[installation_id] = self.clock() + signal.after.total_seconds()
            log.warning(
                "reconciling installation_id=%d deferred: %s",
                installation_id,
                signal,
                extra=context,
            )
            return 0
        except Exception:
            log.exception("reconciling installation_id=%d failed", installation_id, extra=context)
            return 0
        self.deferred.pop(installation_id, None)
        return 1
