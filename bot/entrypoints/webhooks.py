"""``POST /webhooks/github``: verify, store durably, answer 202. Nothing else happens here.

The body is read once, with a size cap, and the signature is checked in constant time on those
raw bytes before anything else looks at them. Event and delivery id come from the headers; the
body is only checked to look like a JSON object: parsing it and every GitHub call happen in the
worker, so the answer takes milliseconds whatever GitHub or the use cases are doing (see
docs/adr/0002-sqlite-job-table-and-postgresql.md).
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import Receive

from bot.adapters.metrics import record_delivery
from bot.entrypoints.translate import TRANSLATED_EVENTS
from bot.services.ports import Delivery, JobQueue, NewJob
from bot.settings import Settings

log = logging.getLogger("bot.intake")

GITHUB_PATH = "/webhooks/github"
# Headers worth keeping with a stored delivery: enough to replay it, nothing secret.
KEPT_HEADERS = (
    "x-github-event",
    "x-github-delivery",
    "x-github-hook-id",
    "x-github-hook-installation-target-type",
    "x-github-hook-installation-target-id",
    "user-agent",
    "content-type",
)
# Unauthenticated header values end up in log lines and metric labels: keep both bounded.
_MAX_LOGGED = 100
_KNOWN_EVENTS = TRANSLATED_EVENTS | {"ping", "installation_target", "github_app_authorization"}
_EDGE = 64


class Refusal(Exception):
    """A 4xx answer and its reason, raised while reading a request."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"status={status}: {reason}")
        self.status = status
        self.reason = reason


def sign(secret: bytes, body: bytes) -> str:
    """The ``sha256=<hex>`` signature GitHub sends in ``X-Hub-Signature-256``."""
    return "sha256=" + hmac.digest(secret, body, "sha256").hex()


def signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def metric_event(event: str | None) -> str:
    """``event`` as a metric label: names GitHub sends, anything else (unauthenticated) "other"."""
    return event if event in _KNOWN_EVENTS else "other"


def refuse(
    refusal: Refusal, path: str, delivery_id: str | None, event: str | None, label: str
) -> None:
    """The access line and the metric (``label``: its event) of a 4xx answer; never the body,
    never a secret."""
    log.warning(
        "refusing webhook status=%d path=%s: %s",
        refusal.status,
        path[:_MAX_LOGGED],
        refusal.reason[: 2 * _MAX_LOGGED],
        extra={
            "delivery_id": delivery_id and delivery_id[:_MAX_LOGGED],
            "event": event and event[:_MAX_LOGGED],
        },
    )
    record_delivery(label, "rejected")


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"body too large: content-length={declared} limit={limit}")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refusal(400, f"client went away after bytes={size}")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, f"body too large: more than limit={limit} bytes")
        if not message.get("more_body", False):
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)


def check_object(body: bytes, content_type: str | None) -> None:
    """Refuse a body that cannot be a JSON object: first and last bytes are not braces.

    A cheap look, not a parse; a signed body that passes it and still does not parse is
    dead-lettered by the worker with the parser's message.
    """
    # Look at the ends only: stripping the whole body would copy it.
    first = body[:_EDGE].lstrip()[:1] or body.lstrip()[:1]
    last = body[-_EDGE:].rstrip()[-1:] or body.rstrip()[-1:]
    if first != b"{" or last != b"}":
        raise Refusal(
            400,
            f"malformed JSON body: expected an object content-type={content_type} "
            "(the webhook's content type must be application/json)",
        )


def delivery_job(delivery_id: str) -> NewJob:
    """The job that turns a stored delivery into events; it never waits on an installation."""
    return NewJob(kind="delivery", payload=f'{{"delivery_id": {json.dumps(delivery_id)}}}')


async def store_delivery(
    queue: JobQueue, delivery: Delivery, job: NewJob | None
) -> tuple[int, dict[str, str]]:
    """Store the delivery and its job durably; 202, or 200 for a duplicate id."""
    context = {"delivery_id": delivery.delivery_id, "event": delivery.event}
    label = metric_event(delivery.event) if delivery.source == "github" else delivery.event
    if not await queue.accept_delivery(delivery, job):
        record_delivery(label, "duplicate")
        log.info("acknowledging duplicate delivery source=%s", delivery.source, extra=context)
        return 200, {"status": "duplicate", "delivery_id": delivery.delivery_id}
    record_delivery(label, delivery.status)
    # The "accepted delivery" line is the queue's: a line per commit, not per request.
    return 202, {"status": delivery.status, "delivery_id": delivery.delivery_id}


def github_router(settings: Settings, queue: JobQueue) -> APIRouter:
    """``POST /webhooks/github``."""
    router = APIRouter()
    secret = settings.webhook_secret.get_secret_value().encode()

    async def accept(request: Request) -> tuple[int, dict[str, str]]:
        received = dict(request.headers)
        headers = {name: received[name] for name in KEPT_HEADERS if name in received}
        declared = received.get("content-length")
        body = await read_body(request.receive, declared, settings.max_body_bytes)
        if not signature_valid(secret, body, received.get("x-hub-signature-256")):
            raise Refusal(401, "bad or missing X-Hub-Signature-256")
        event = headers.get("x-github-event")
        delivery_id = headers.get("x-github-delivery")
        if not event or not delivery_id:
            raise Refusal(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        check_object(body, headers.get("content-type"))
        routed = event in TRANSLATED_EVENTS
        delivery = Delivery(
            delivery_id=delivery_id,
            source="github",
            event=event,
            body=body,
            received_at=datetime.now(UTC),
            headers=headers,
            status="queued" if routed else "ignored",
        )
        return await store_delivery(queue, delivery, delivery_job(delivery_id) if routed else None)

    @router.post(GITHUB_PATH, status_code=202)
    async def receive(request: Request) -> JSONResponse:
        event = request.headers.get("x-github-event")
        delivery_id = request.headers.get("x-github-delivery")
        try:
            status, content = await accept(request)
        except Refusal as refusal:
            refuse(refusal, request.url.path, delivery_id, event, metric_event(event))
            status, content = refusal.status, {"detail": refusal.reason}
        except Exception:  # the store failed: nothing was accepted, GitHub marks it failed
            log.exception(
                "storing github delivery failed", extra={"delivery_id": delivery_id, "event": event}
            )
            status, content = 503, {"detail": "the delivery could not be stored; retry later"}
        return JSONResponse(content, status)

    return router
