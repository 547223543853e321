"""``POST /webhooks/github``: verify, store durably, answer 202. Nothing else happens here.

The body is read once, with a size cap, and the signature is checked on those raw bytes before
anything else looks at them. Parsing beyond ``json.loads`` and every GitHub call happen in the
worker, so the answer takes milliseconds whatever GitHub or the use cases are doing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from bot.entrypoints.translate import TRANSLATED_EVENTS
from bot.services.ports import Delivery, JobQueue, NewJob
from bot.settings import Settings

log = logging.getLogger("bot.intake")

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


def sign(secret: bytes, body: bytes) -> str:
    """The ``sha256=<hex>`` signature GitHub sends in ``X-Hub-Signature-256``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body too large: content-length={declared} limit={limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body too large: more than limit={limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_envelope(body: bytes) -> dict[str, Any]:
    """``json.loads`` of the body, which must be a JSON object; 400 otherwise."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HTTPException(400, f"malformed JSON body: {err}") from err
    if not isinstance(payload, dict):
        raise HTTPException(400, f"JSON body is a {type(payload).__name__}, expected an object")
    return payload


def installation_of(payload: dict[str, Any]) -> int | None:
    installation = payload.get("installation")
    value = installation.get("id") if isinstance(installation, dict) else None
    return value if isinstance(value, int) else None


def delivery_job(delivery_id: str, installation_id: int | None) -> NewJob:
    """The job that turns a stored delivery into events; it never waits on an installation."""
    payload = json.dumps({"delivery_id": delivery_id, "installation_id": installation_id})
    return NewJob(kind="delivery", payload=payload)


async def store_delivery(
    queue: JobQueue, delivery: Delivery, job: NewJob | None, installation_id: int | None = None
) -> JSONResponse:
    """Store the delivery and its job in one transaction; 202, or 200 for a duplicate id."""
    context = {
        "delivery_id": delivery.delivery_id,
        "event": delivery.event,
        "installation_id": installation_id,
    }
    if not await queue.accept_delivery(delivery, job):
        log.info("acknowledging duplicate delivery source=%s", delivery.source, extra=context)
        return JSONResponse({"status": "duplicate", "delivery_id": delivery.delivery_id}, 200)
    log.info(
        "accepted delivery source=%s status=%s", delivery.source, delivery.status, extra=context
    )
    return JSONResponse({"status": delivery.status, "delivery_id": delivery.delivery_id}, 202)


def github_router(
    settings: Settings, queue: JobQueue, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> APIRouter:
    router = APIRouter()
    secret = settings.webhook_secret.get_secret_value().encode()

    @router.post("/webhooks/github", status_code=202)
    async def receive(request: Request) -> JSONResponse:
        body = await read_body(request, settings.max_body_bytes)
        if not signature_valid(secret, body, request.headers.get("x-hub-signature-256")):
            log.warning("rejecting github delivery: bad or missing X-Hub-Signature-256")
            raise HTTPException(401, "bad or missing X-Hub-Signature-256")
        event = request.headers.get("x-github-event")
        delivery_id = request.headers.get("x-github-delivery")
        if not event or not delivery_id:
            raise HTTPException(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        payload = parse_envelope(body)
        installation_id = installation_of(payload)
        routed = event in TRANSLATED_EVENTS
        delivery = Delivery(
            delivery_id=delivery_id,
            source="github",
            event=event,
            body=body,
            received_at=clock(),
            headers={k: v for k in KEPT_HEADERS if (v := request.headers.get(k)) is not None},
            status="queued" if routed else "ignored",
        )
        job = delivery_job(delivery_id, installation_id) if routed else None
        return await store_delivery(queue, delivery, job, installation_id)

    return router
