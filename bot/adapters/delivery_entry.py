"""A spooled delivery as the queue indexes it, and the log lines of indexing."""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

from bot.services.ports import Delivery, NewJob

log = logging.getLogger("bot.intake")


class Entry(NamedTuple):
    """What indexing a spooled delivery needs: the delivery but its body, and its job."""

    delivery_id: str
    source: str
    event: str
    status: str
    received_at: float
    headers: dict[str, str]
    job: NewJob | None

    @classmethod
    def of(cls, delivery: Delivery, job: NewJob | None) -> Entry:
        d = delivery
        return cls(
            d.delivery_id, d.source, d.event, d.status, d.received_at.timestamp(), d.headers, job
        )

    def encode(self) -> bytes:
        """The spool record's meta: a JSON array, readable by any later version."""
        job = self.job
        return json.dumps([*self[:6], None if job is None else [*vars(job).values()]]).encode()

    @classmethod
    def decode(cls, meta: bytes) -> Entry:
        delivery_id, source, event, status, received_at, headers, job = json.loads(meta)
        job = None if job is None else NewJob(*job)
        return cls(delivery_id, source, event, status, received_at, headers, job)


def log_accepted(fresh: list[Entry]) -> None:
    """A line per delivery alone, a line per batch under a burst (each delivery's at debug): a
    line per delivery costs a burst a tenth of its throughput, and the worker logs each one
    again as it translates it."""
    if len(fresh) > 1:
        first, last = fresh[0].delivery_id, fresh[-1].delivery_id
        log.info("accepted deliveries count=%d first=%s last=%s", len(fresh), first, last)
    level = logging.INFO if len(fresh) == 1 else logging.DEBUG
    for entry in fresh if log.isEnabledFor(level) else ():
        log.log(
            level,
            "accepted delivery source=%s status=%s",
            entry.source,
            entry.status,
            extra={"delivery_id": entry.delivery_id, "event": entry.event},
        )
