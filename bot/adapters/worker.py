"""The job runner: lease a job, run it, then complete, retry or dead-letter it.

A job is completed only after its handler returns, so a crash at any point leaves it leased and
the queue hands it out again (at least once). While the handler runs, a heartbeat renews the
lease every ``heartbeat`` seconds (a third of the queue's lease), so a slow job is never handed
out a second time; if the lease was lost anyway (the event loop stalled past it and the job went
to another worker), the handler is cancelled and the job left to its new holder: two runs never
overlap. The handler signals what went wrong by the exception it raises: ``RetryLater`` waits as
told (and holds back its installation) up to ``max_waits`` times, then dead-letters with its
reason; ``JobRejected`` dead-letters at once; anything else retries with exponential backoff and
jitter until ``max_attempts``. Waits and attempts are counted apart (``Job``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.adapters.metrics import observe_job, observe_job_wait
from bot.services.ports import Job, JobQueue, JobRejected, RetryLater

log = logging.getLogger("bot.worker")

# A running job's lease is renewed this often: three renewals per term.
RENEWALS_PER_LEASE = 3

JobHandler = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base * 2**(attempt-1)`` capped at ``cap``, scaled by a jitter in [0.5, 1).

    ``max_waits``: how many ``RetryLater`` waits one job may take; the next one dead-letters it
    (20: at GitHub's longest secondary-limit backoff, 15 min, about five hours of waiting).
    """

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=15)
    max_attempts: int = 8
    max_waits: int = 20
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> timedelta:
        exponential: timedelta = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return exponential * (0.5 + self.jitter() / 2)


class Worker:
    """Runs ``concurrency`` loops that lease jobs from ``queue`` and pass them to ``handle``."""

    def __init__(
        self,
        queue: JobQueue,
        handle: JobHandler,
        *,
        concurrency: int = 1,
        policy: RetryPolicy | None = None,
        poll_interval: float = 0.1,
        max_deferral: float = 2.0,
        heartbeat: float | None = None,
    ) -> None:
        self.queue = queue
        self.handle = handle
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.poll_interval = poll_interval
        self.max_deferral = max_deferral
        self.heartbeat = heartbeat or queue.lease_term.total_seconds() / RENEWALS_PER_LEASE
        self._busy: Callable[[], bool] = lambda: False
        self._wake = asyncio.Event()

    def defer_while(self, busy: Callable[[], bool]) -> None:
        """Let ``busy`` (webhooks being answered) go first, for at most ``max_deferral`` s at a
        time: acknowledgements stay fast under a burst and the queue still drains."""
        self._busy = busy

    def wake(self) -> None:
        """Cut the idle wait short: a job was just enqueued."""
        self._wake.set()

    async def run_once(self) -> bool:
        """Lease and run one job; ``False`` when none is runnable now."""
        job = await self.queue.lease()
        if job is None:
            return False
        await self._run(job)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until ``stop`` is set; an unexpected error in one pass never ends the loop."""
        await asyncio.gather(*(self._loop(stop) for _ in range(self.concurrency)))

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            deferred_until = time.monotonic() + self.max_deferral  # ``defer_while``
            while self._busy() and time.monotonic() < deferred_until:
                await asyncio.sleep(0.005)
            try:
                busy = await self.run_once()
            except Exception:
                log.exception("worker pass failed; continuing")
                busy = False
            if not busy:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _run(self, job: Job) -> None:
        observe_job_wait(job.kind, job.waited)
        context = job_log_fields(job)
        started = time.monotonic()
        if job.attempt > self.policy.max_attempts:
            # Leased more often than allowed without finishing: the process died running it.
            error = f"gave up after attempts={job.attempt - 1}"
            outcome = await self._dead_letter(job, error, context)
        else:
            outcome = await self._handle(job, context)
        observe_job(job.kind, outcome, time.monotonic() - started)

    async def _handle(self, job: Job, context: Mapping[str, object]) -> str:
        """Run the handler and settle the job; the outcome: done, wait, retry, dead or lost."""
        try:
            await self._run_leased(job, context)
        except LeaseLost as lost:
            log.error("abandoned job kind=%s: %s", job.kind, lost, extra=context)
            return "lost"
        except RetryLater as signal:
            return await self._wait_or_fail(job, signal, context)
        except JobRejected as err:
            return await self._dead_letter(job, str(err), context)
        except Exception as err:
            return await self._retry_or_fail(job, err, context)
        await self.queue.complete(job)
        log.info("completed job kind=%s attempt=%d", job.kind, job.attempt, extra=context)
        return "done"

    async def _run_leased(self, job: Job, context: Mapping[str, object]) -> None:
        """The handler, while a heartbeat renews the job's lease; ``LeaseLost`` (the handler
        cancelled) when a renewal finds the lease gone."""
        work = asyncio.ensure_future(self.handle(job))
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=self.heartbeat)
                if not work.done() and not await self._renew(job, context):
                    work.cancel()
                    await asyncio.gather(work, return_exceptions=True)
                    raise LeaseLost(f"lease lost job_id={job.id} attempt={job.attempt}")
            await work
        finally:
            if not work.done():  # the worker itself was cancelled (shutdown)
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)

    async def _renew(self, job: Job, context: Mapping[str, object]) -> bool:
        """Extend the lease; a failure to reach the queue keeps the job running (settling it
        is fenced by its lease token anyway)."""
        try:
            return await self.queue.extend_lease(job)
        except Exception:
            log.exception("renewing the lease of job_id=%d failed", job.id, extra=context)
            return True

    async def _wait_or_fail(
        self, job: Job, signal: RetryLater, context: Mapping[str, object]
    ) -> str:
        if job.waits >= self.policy.max_waits:
            error = f"gave up after waits={job.waits}: {signal}"
            return await self._dead_letter(job, error, context)
        await self.queue.retry(
            job, after=signal.after, error=str(signal), throttle_installation=True
        )
        log.warning("job waits kind=%s: %s", job.kind, signal, extra=context)
        return "wait"

    async def _retry_or_fail(self, job: Job, err: Exception, context: Mapping[str, object]) -> str:
        error = f"{type(err).__name__}: {err}"
        if job.attempt >= self.policy.max_attempts:
            return await self._dead_letter(job, error, context)
        delay = self.policy.delay(job.attempt)
        await self.queue.retry(job, after=delay, error=error)
        log.warning(
            "job failed attempt=%d, retrying in %.1fs: %s",
            job.attempt,
            delay.total_seconds(),
            error,
            extra=context,
        )
        return "retry"

    async def _dead_letter(self, job: Job, error: str, context: Mapping[str, object]) -> str:
        await self.queue.fail(job, error=error)
        log.error(
            "dead-lettered job kind=%s attempt=%d: %s", job.kind, job.attempt, error, extra=context
        )
        return "dead"


class LeaseLost(Exception):
    """The job's lease ran out and it was handed out again: its new holder runs it."""


def job_log_fields(job: Job) -> dict[str, object]:
    """The context of a job's log lines: its id, installation and serial key (the repository,
    for events), and the delivery and event kind its payload names."""
    fields: dict[str, object] = {
        "job_id": job.id,
        "installation_id": job.installation_id,
        "repo": job.serial_key,
    }
    try:
        payload = json.loads(job.payload)
    except ValueError:
        return fields  # the handler rejects it, with the reason
    if isinstance(payload, dict):
        fields["delivery_id"] = payload.get("delivery_id")
        fields["event"] = payload.get("kind")
    return fields
