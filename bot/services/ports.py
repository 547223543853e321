"""Ports: the small interfaces the use cases and the intake are written against.

Adapters in ``bot.adapters`` implement them; tests use in-memory fakes or the real SQLite adapter
on a temporary file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from bot.core.inputs.events import VersionSeen

JobKind = Literal["delivery", "event"]
EnqueueOutcome = Literal["enqueued", "duplicate", "coalesced"]


class RetryLater(Exception):
    """Raised by a handler that must wait (rate limit, ``retry-after``) before trying again.

    The wait applies to the whole installation: its other jobs wait too, other installations
    do not.
    """

    def __init__(self, after: timedelta, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry after {after.total_seconds():.0f}s")
        self.after = after
        self.reason = reason


class JobRejected(Exception):
    """Raised when a job can never succeed (a payload of the wrong shape): no retry."""


@dataclass(frozen=True)
class Delivery:
    """One inbound webhook delivery, stored before it is acknowledged."""

    delivery_id: str
    source: str  # "github" or "registry:<kind>"
    event: str
    body: bytes
    received_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    status: Literal["queued", "ignored"] = "queued"


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue. ``payload`` is JSON text; ``bot.core.inputs.events`` describes its keys."""

    kind: JobKind
    payload: str
    dedupe_key: str | None = None
    coalesce_key: str | None = None
    serial_key: str | None = None
    installation_id: int | None = None
    seen: VersionSeen | None = None  # recorded with the job, before any coalescing


@dataclass(frozen=True)
class Job:
    """A leased job. ``attempt`` counts this lease and the earlier ones that did not end in a
    wait; ``waits`` counts the earlier leases that ended in ``RetryLater``; ``merged`` counts
    the jobs coalesced in; ``waited`` is how long, in seconds, it was ready to run before this
    lease."""

    id: int
    kind: JobKind
    payload: str
    attempt: int
    lease_token: str
    merged: int = 1
    serial_key: str | None = None
    installation_id: int | None = None
    dedupe_key: str | None = None
    waited: float = 0.0
    waits: int = 0


@dataclass(frozen=True)
class QueueStats:
    ready: int = 0
    leased: int = 0
    done: int = 0
    dead: int = 0
    deliveries: int = 0
    oldest_ready_age: float = 0.0  # seconds the oldest due, unleased job has waited to run


class JobQueue(Protocol):
    """A durable at-least-once job queue with a delivery log.

    A leased job is invisible to other consumers until its lease expires or it is completed,
    retried or failed; a job is done only after ``complete``. ``lease_term`` is how long a
    lease lasts unless renewed (``extend_lease``).
    """

    lease_term: timedelta

    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        """Store a delivery (and its job) atomically; ``False`` when its id was seen before."""

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        """The stored delivery, or ``None`` when the id is unknown."""

    async def enqueue(self, job: NewJob) -> EnqueueOutcome:
        """Add a job unless its dedupe key was seen; merge it into a waiting job of the same
        coalesce key (newest payload wins). The job's ``seen`` version is recorded in the same
        transaction, whatever becomes of the job (``VersionsSeen``)."""

    async def lease(self) -> Job | None:
        """The next runnable job, or ``None``: jobs of a leased serial key or of a throttled
        installation wait."""

    async def extend_lease(self, job: Job) -> bool:
        """Renew the job's lease for another full term (the worker's heartbeat while it runs);
        ``False`` when the lease was lost (expired and handed out again, or settled)."""

    async def complete(self, job: Job) -> None:
        """Mark the job done; a job whose lease was lost is left to its new holder."""

    async def retry(
        self, job: Job, *, after: timedelta, error: str, throttle_installation: bool = False
    ) -> None:
        """Make the job runnable again after ``after``; with ``throttle_installation`` (a
        ``RetryLater``) the lease counts as a wait, not an attempt, and every job of its
        installation waits as long."""

    async def fail(self, job: Job, *, error: str) -> None:
        """Dead-letter the job, keeping the error."""

    async def stats(self) -> QueueStats:
        """Counts of jobs per state and of stored deliveries; also proves the store answers."""


class VersionsSeen(Protocol):
    """The versions the intake has seen, kept durably per subject (see ``VersionSeen``)."""

    async def versions_seen(self, subjects: Sequence[str]) -> Mapping[str, str | None]:
        """Every tag seen under ``subjects`` -> the digest it last pointed at (``None`` when
        no push said)."""


class Clock(Protocol):
    """The current time, timezone-aware; tests inject a fake one."""

    def __call__(self) -> datetime:
        """Now."""
