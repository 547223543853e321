"""``POST /webhooks/registry/{kind}``: image pushes from registries other than GitHub's.

Each kind authenticates the way its registry can (see docs/webhooks.md), its body is checked
against a small model (400/422 with the reason when it does not fit), and the delivery is stored
and queued like a GitHub one; ``normalise`` turns it into ``ImagePushed`` events in the worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.core.files.images import DEFAULT_REGISTRY, parse_image_ref
from bot.core.inputs.events import ImagePushed
from bot.entrypoints.webhooks import (
    Refusal,
    delivery_job,
    read_body,
    refuse,
    signature_valid,
    store_delivery,
)
from bot.services.ports import Delivery, JobQueue
from bot.settings import Settings


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DockerHubRepository(_Model):
    repo_name: str


class DockerHubPushData(_Model):
    tag: str


class DockerHubPush(_Model):
    repository: DockerHubRepository
    push_data: DockerHubPushData


class HarborResource(_Model):
    tag: str = ""
    digest: str | None = None
    resource_url: str = ""


class HarborRepository(_Model):
    repo_full_name: str


class HarborEventData(_Model):
    resources: list[HarborResource]
    repository: HarborRepository


class HarborEvent(_Model):
    type: str
    event_data: HarborEventData


class DistributionTarget(_Model):
    repository: str
    tag: str = ""
    digest: str | None = None
    url: str = ""


class DistributionRequest(_Model):
    host: str = ""


class DistributionEvent(_Model):
    action: str
    target: DistributionTarget
    request: DistributionRequest = DistributionRequest()


class DistributionEnvelope(_Model):
    events: list[DistributionEvent]


class GenericPush(_Model):
    image: str
    tag: str
    digest: str | None = None

    @field_validator("image")
    @classmethod
    def _reference(cls, image: str) -> str:
        parse_image_ref(image)  # raises ImageRefError (a ValueError) with the reason
        return image


def _dockerhub(body: dict[str, Any], delivery_id: str) -> list[ImagePushed]:
    push = DockerHubPush.model_validate(body)
    return [
        ImagePushed(
            registry=DEFAULT_REGISTRY,
            repository=push.repository.repo_name,
            tag=push.push_data.tag,
            delivery_id=delivery_id,
        )
    ]


def _harbor(body: dict[str, Any], delivery_id: str) -> list[ImagePushed]:
    event = HarborEvent.model_validate(body)
    if event.type != "PUSH_ARTIFACT":
        return []
    repository = event.event_data.repository.repo_full_name
    return [
        ImagePushed(
            registry=r.resource_url.split("/", 1)[0] if "/" in r.resource_url else "",
            repository=repository,
            tag=r.tag,
            digest=r.digest,
            delivery_id=delivery_id,
        )
        for r in event.event_data.resources
        if r.tag
    ]


def _distribution(body: dict[str, Any], delivery_id: str) -> list[ImagePushed]:
    envelope = DistributionEnvelope.model_validate(body)
    return [
        ImagePushed(
            registry=e.request.host or urlsplit(e.target.url).netloc,
            repository=e.target.repository,
            tag=e.target.tag,
            digest=e.target.digest,
            delivery_id=delivery_id,
        )
        for e in envelope.events
        if e.action == "push" and e.target.tag
    ]


def _generic(body: dict[str, Any], delivery_id: str) -> list[ImagePushed]:
    push = GenericPush.model_validate(body)
    ref = parse_image_ref(push.image)
    return [
        ImagePushed(
            registry=ref.domain,
            repository=ref.path,
            tag=push.tag,
            digest=push.digest,
            delivery_id=delivery_id,
        )
    ]


Normaliser = Callable[[dict[str, Any], str], list[ImagePushed]]
NORMALISERS: Mapping[str, Normaliser] = {
    "dockerhub": _dockerhub,
    "harbor": _harbor,
    "distribution": _distribution,
    "generic": _generic,
}


def normalise(kind: str, body: dict[str, Any], delivery_id: str) -> list[ImagePushed]:
    """The image pushes a registry delivery reports; raises ``ValueError`` on a bad shape."""
    normaliser = NORMALISERS.get(kind)
    if normaliser is None:
        raise ValueError(f"unknown registry kind={kind}")
    return normaliser(body, delivery_id)


def authenticated(kind: str, secret: bytes, request: Request, body: bytes) -> bool:
    """Whether the request proves it knows ``secret``, the way registry ``kind`` can."""
    if kind == "generic":
        return signature_valid(secret, body, request.headers.get("x-signature-256"))
    if kind == "dockerhub":  # Docker Hub cannot sign or send headers: a token in the URL
        token = request.query_params.get("token") or request.headers.get("x-webhook-token", "")
        return hmac.compare_digest(token.encode(), secret)
    header = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(header, secret) or hmac.compare_digest(header, b"Bearer " + secret)


def parse_envelope(body: bytes) -> dict[str, Any]:
    """``json.loads`` of the body, which must be a JSON object; 400 otherwise (bad JSON, not an
    object, or nested too deep for the parser)."""
    try:
        payload = json.loads(body)
    except ValueError as err:  # bad JSON, bad UTF-8, an integer too long to convert
        raise Refusal(400, f"malformed JSON body: {err}") from err
    except RecursionError:  # nested deeper than the parser goes
        raise Refusal(400, "malformed JSON body: nested too deep to parse") from None
    if not isinstance(payload, dict):
        raise Refusal(400, f"JSON body is a {type(payload).__name__}, expected an object")
    return payload


def events_at_the_door(kind: str, body: bytes, delivery_id: str) -> list[ImagePushed]:
    """The pushes of a registry delivery, or a ``Refusal`` naming what is wrong with it."""
    try:
        return normalise(kind, parse_envelope(body), delivery_id)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()
        )
        raise Refusal(422, f"bad {kind} payload: {problems}") from None


def registry_router(
    settings: Settings, queue: JobQueue, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> APIRouter:
    router = APIRouter()

    async def accept(kind: str, request: Request) -> tuple[int, dict[str, str]]:
        token = settings.registry_tokens.get(kind)
        if kind not in NORMALISERS or token is None:
            raise Refusal(404, f"unknown or unconfigured registry kind={kind}")
        declared = request.headers.get("content-length")
        body = await read_body(request.receive, declared, settings.max_body_bytes)
        if not authenticated(kind, token.get_secret_value().encode(), request, body):
            raise Refusal(401, f"bad or missing credentials for registry kind={kind}")
        delivery_id = f"registry-{kind}-{hashlib.sha256(body).hexdigest()[:32]}"
        events = events_at_the_door(kind, body, delivery_id)
        delivery = Delivery(
            delivery_id=delivery_id,
            source=f"registry:{kind}",
            event=kind,
            body=body,
            received_at=clock(),
            status="queued" if events else "ignored",
        )
        return await store_delivery(queue, delivery, delivery_job(delivery_id) if events else None)

    @router.post("/webhooks/registry/{kind}", status_code=202)
    async def receive(kind: str, request: Request) -> JSONResponse:
        try:
            status, content = await accept(kind, request)
        except Refusal as refusal:
            label = kind if kind in NORMALISERS else "other"
            refuse(refusal, request.url.path, None, kind, label)
            status, content = refusal.status, {"detail": refusal.reason}
        return JSONResponse(content, status)

    return router
