"""The routing table and the job processor (the manifest's events: test_subscriptions.py)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.core.inputs.events import ImagePushed, TagCreated, event_to_json
from bot.entrypoints.routing import (
    EventContext,
    JobProcessor,
    Router,
    events_of_delivery,
)
from bot.services.ports import Delivery, Job, JobRejected
from tests.entrypoints.conftest import Recorder, deliveries
from tests.entrypoints.payloads import raw

CONTEXT = EventContext(job_id=1, attempt=1, merged=1)


async def test_router_calls_the_handler_of_the_event_type() -> None:
    tags, images = Recorder(), Recorder()
    router = Router({TagCreated: tags, ImagePushed: images})
    event = TagCreated(repo="a/b", tag="v1")
    assert await router.dispatch(event, CONTEXT)
    assert tags.calls == [(event, CONTEXT)] and images.calls == []


async def test_router_without_a_handler_skips() -> None:
    assert not await Router({}).dispatch(TagCreated(repo="a/b", tag="v1"), CONTEXT)


def _delivery(source: str, event: str, body: bytes) -> Delivery:
    return Delivery(
        delivery_id="d", source=source, event=event, body=body, received_at=datetime.now(UTC)
    )


def test_registry_delivery_becomes_image_pushed() -> None:
    body = json.dumps({"image": "ghcr.io/acme/api", "tag": "2.0.0"}).encode()
    [event] = events_of_delivery(_delivery("registry:generic", "generic", body))
    assert isinstance(event, ImagePushed) and (event.image, event.tag) == (
        "ghcr.io/acme/api",
        "2.0.0",
    )


@pytest.mark.parametrize(
    ("source", "event", "body", "message"),
    [
        ("github", "create", b"{broken", "payload of the wrong shape delivery_id=d event=create"),
        ("github", "create", b"[1, 2]", "JSON body is a list, expected an object"),
        ("github", "push", b'{"ref": "\xff"}', "malformed JSON body"),
        ("registry:generic", "generic", b'{"image": 1}', "payload of the wrong shape"),
        ("github", "push", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deep"),
    ],
)
def test_unreadable_deliveries_are_rejected(
    source: str, event: str, body: bytes, message: str
) -> None:
    with pytest.raises(JobRejected, match=message):
        events_of_delivery(_delivery(source, event, body))


def _job(kind: str, payload: str) -> Job:
    return Job(id=9, kind=kind, payload=payload, attempt=1, lease_token="t")  # type: ignore[arg-type]


async def test_processor_rejects_a_missing_delivery(queue: SqliteJobQueue) -> None:
    processor = JobProcessor(queue, Router({}))
    with pytest.raises(JobRejected, match="delivery not found delivery_id=gone job_id=9"):
        await processor(_job("delivery", '{"delivery_id": "gone"}'))


async def test_processor_rejects_an_unreadable_event(queue: SqliteJobQueue) -> None:
    with pytest.raises(JobRejected, match="unreadable event job_id=9"):
        await JobProcessor(queue, Router({}))(_job("event", '{"kind": "nope"}'))


async def test_processor_passes_the_coalesced_count(queue: SqliteJobQueue) -> None:
    recorder = Recorder()
    event = TagCreated(repo="a/b", tag="v1")
    job = Job(
        id=3, kind="event", payload=event_to_json(event), attempt=2, lease_token="t", merged=4
    )
    await JobProcessor(queue, Router({TagCreated: recorder}))(job)
    assert recorder.calls == [(event, EventContext(job_id=3, attempt=2, merged=4))]


async def _stored(queue: SqliteJobQueue, event: str, body: bytes) -> Job:
    stored = Delivery(
        delivery_id="d-9", source="github", event=event, body=body, received_at=datetime.now(UTC)
    )
    assert await queue.accept_delivery(stored, None)
    return _job("delivery", '{"delivery_id": "d-9"}')


async def test_processor_counts_a_body_that_does_not_parse_as_rejected(
    queue: SqliteJobQueue,
) -> None:
    job = await _stored(queue, "pull_request", b'{"action": }')  # braced, so the intake took it
    before = deliveries("pull_request", "rejected")
    with pytest.raises(JobRejected, match="delivery_id=d-9 event=pull_request: malformed JSON"):
        await JobProcessor(queue, Router({}))(job)
    assert deliveries("pull_request", "rejected") == before + 1


async def test_ignoring_a_delivery_names_its_installation_and_repository(
    queue: SqliteJobQueue, caplog: pytest.LogCaptureFixture
) -> None:
    payload = json.loads(raw("api.github.com/pull_request/opened.payload.json"))
    payload |= {"action": "labeled", "installation": {"id": 42}}
    job = await _stored(queue, "pull_request", json.dumps(payload).encode())
    caplog.set_level(logging.INFO, logger="bot.routing")
    await JobProcessor(queue, Router({}))(job)
    [line] = [r for r in caplog.records if r.getMessage().startswith("ignoring delivery")]
    fields = {k: getattr(line, k) for k in ("delivery_id", "event", "installation_id", "repo")}
    assert fields == {
        "delivery_id": "d-9",
        "event": "pull_request",
        "installation_id": 42,
        "repo": "Codertocat/Hello-World",
    }
