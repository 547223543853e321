"""From a queued job to a use case: deliveries become events, events go through one table.

Two kinds of job flow through the queue:

- ``delivery``: a stored webhook delivery; it is translated (``translate`` for GitHub,
  ``registries.normalise`` for other registries) and each event is enqueued as an ``event`` job
  with the event's dedupe, coalesce and serial keys;
- ``event``: one core event, dispatched through the routing table to its use-case handler.

The handlers are given at wiring time (``Router(routes)``), so this module knows no use case.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.metrics import record_delivery
from bot.core.inputs.events import BaseEvent, event_from_json, event_to_json
from bot.entrypoints.registries import normalise
from bot.entrypoints.translate import PayloadShapeError, shape_problems, translate
from bot.entrypoints.webhooks import metric_event
from bot.services.ports import Delivery, Job, JobQueue, JobRejected, NewJob

log = logging.getLogger("bot.routing")


@dataclass(frozen=True)
class EventContext:
    """What a handler knows about the job it runs in."""

    job_id: int
    attempt: int
    merged: int  # how many coalesced events this one stands for


Handler = Callable[[Any, EventContext], Awaitable[None]]


class Router:
    """The one routing table: event type -> use-case handler."""

    def __init__(self, routes: Mapping[type[BaseEvent], Handler]) -> None:
        self.routes = dict(routes)

    async def dispatch(self, event: BaseEvent, context: EventContext) -> bool:
        """Run the handler of ``event``'s type; ``False`` when no handler is wired for it."""
        handler = self.routes.get(type(event))
        if handler is None:
            log.info(
                "no handler wired for event=%s", type(event).__name__, extra=_log_fields(event)
            )
            return False
        await handler(event, context)
        return True


def events_of_delivery(delivery: Delivery) -> tuple[BaseEvent, ...]:
    """The core events a stored delivery means; ``JobRejected`` if it has the wrong shape."""
    return events_of_payload(delivery, payload_of(delivery))


def payload_of(delivery: Delivery) -> dict[str, Any]:
    """The stored body as a JSON object; ``JobRejected`` naming the problem otherwise.

    The intake only checked that the body looks like an object (braces at both ends), so this
    is where a signed body that does not parse (bad JSON, bad UTF-8, nested deeper than the
    parser's recursion limit) is refused, once.
    """
    try:
        payload = json.loads(delivery.body)
    except ValueError as err:  # bad JSON or bad UTF-8
        raise _rejected(delivery, f"malformed JSON body: {err}") from err
    except RecursionError as err:  # nested deeper than the parser goes: no retry parses it
        raise _rejected(delivery, "malformed JSON body: nested too deep to parse") from err
    if not isinstance(payload, dict):
        raise _rejected(delivery, f"JSON body is a {type(payload).__name__}, expected an object")
    return payload


def events_of_payload(delivery: Delivery, payload: dict[str, Any]) -> tuple[BaseEvent, ...]:
    """The core events of a delivery's parsed ``payload``; ``JobRejected`` on a bad shape."""
    try:
        if delivery.source.startswith("registry:"):
            kind = delivery.source.removeprefix("registry:")
            return tuple(normalise(kind, payload, delivery.delivery_id))
        translation = translate(delivery.event, payload, delivery.delivery_id)
        if translation.events:
            problems = shape_problems(delivery.event, payload, translation.fields_read)
            if problems:
                raise PayloadShapeError("; ".join(problems))
    except ValueError as err:  # PayloadShapeError, pydantic ValidationError
        raise _rejected(delivery, str(err)) from err
    return translation.events


def _rejected(delivery: Delivery, problem: str) -> JobRejected:
    return JobRejected(
        f"payload of the wrong shape delivery_id={delivery.delivery_id} "
        f"event={delivery.event}: {problem}"
    )


def delivery_context(delivery: Delivery, payload: dict[str, Any]) -> dict[str, Any]:
    """Log fields of a delivery, with its installation and repository when the payload names
    them (GitHub's envelope: ``installation.id``, ``repository.full_name``)."""
    installation, repository = payload.get("installation"), payload.get("repository")
    return {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "installation_id": installation.get("id") if isinstance(installation, dict) else None,
        "repo": repository.get("full_name") if isinstance(repository, dict) else None,
    }


def event_job(event: BaseEvent) -> NewJob:
    return NewJob(
        kind="event",
        payload=event_to_json(event),
        dedupe_key=event.dedupe_key,
        coalesce_key=event.coalesce_key,
        serial_key=event.serial_key,
        installation_id=event.installation_id,
        seen=event.version_seen,
    )


class JobProcessor:
    """Runs one leased job: translate a delivery or dispatch an event."""

    def __init__(self, queue: JobQueue, router: Router) -> None:
        self.queue = queue
        self.router = router

    async def __call__(self, job: Job) -> None:
        if job.kind == "delivery":
            await self._translate(job)
        else:
            await self._dispatch(job)

    async def _translate(self, job: Job) -> None:
        delivery_id = json.loads(job.payload)["delivery_id"]
        delivery = await self.queue.get_delivery(delivery_id)
        if delivery is None:
            raise JobRejected(f"delivery not found delivery_id={delivery_id} job_id={job.id}")
        try:
            payload = payload_of(delivery)
            events = events_of_payload(delivery, payload)
        except JobRejected:
            record_delivery(_metric_event(delivery), "rejected")
            raise
        for event in events:
            outcome = await self.queue.enqueue(event_job(event))
            log.info(
                "queued event=%s outcome=%s",
                type(event).__name__,
                outcome,
                extra=_log_fields(event, job.id),
            )
        if not events:
            log.info(
                "ignoring delivery event=%s: nothing to do",
                delivery.event,
                extra=delivery_context(delivery, payload) | {"job_id": job.id},
            )

    async def _dispatch(self, job: Job) -> None:
        try:
            event = event_from_json(job.payload)
        except ValueError as err:
            raise JobRejected(f"unreadable event job_id={job.id}: {err}") from err
        context = EventContext(job_id=job.id, attempt=job.attempt, merged=job.merged)
        await self.router.dispatch(event, context)


def _metric_event(delivery: Delivery) -> str:
    """The delivery's event as the intake labelled it when it was queued."""
    return delivery.event if delivery.source != "github" else metric_event(delivery.event)


def _log_fields(event: BaseEvent, job_id: int | None = None) -> dict[str, Any]:
    return {
        "delivery_id": event.delivery_id,
        "event": type(event).__name__,
        "installation_id": event.installation_id,
        "repo": event.serial_key,
        "job_id": job_id,
    }
