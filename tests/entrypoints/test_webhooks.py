"""``POST /webhooks/github`` through the ASGI app, then the worker, with recording handlers."""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.core.inputs.events import ImagePushed, PullChanged
from bot.entrypoints.routing import JobProcessor, Router
from bot.entrypoints.web import create_app
from bot.entrypoints.webhooks import sign, signature_valid
from bot.services.ports import NewJob
from bot.settings import Settings
from tests.adapters.support import dead_jobs, drain
from tests.entrypoints.conftest import SECRET, Recorder, deliveries
from tests.entrypoints.payloads import raw, tagged_ghcr_push
from tests.event_types import event_types

OPENED = "api.github.com/pull_request/opened.payload.json"


def headers(body: bytes, event: str = "pull_request", delivery: str = "d-1") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        "Content-Type": "application/json",
    }


async def post(client: httpx.AsyncClient, body: bytes, **header_overrides: str) -> httpx.Response:
    return await client.post("/webhooks/github", content=body, headers=header_overrides)


def test_github_test_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"It's a Secret to Everybody", b"Hello, World!") == expected
    assert signature_valid(b"It's a Secret to Everybody", b"Hello, World!", expected)
    assert not signature_valid(b"It's a Secret to Everybody", b"Hello, World?", expected)
    assert not signature_valid(b"other", b"Hello, World!", expected)
    assert not signature_valid(b"It's a Secret to Everybody", b"Hello, World!", None)


async def test_delivery_is_acknowledged_then_handled(
    client: httpx.AsyncClient, worker: Worker, recorder: Recorder
) -> None:
    body = raw(OPENED)
    response = await post(client, body, **headers(body))
    assert response.status_code == 202
    assert response.json() == {"status": "queued", "delivery_id": "d-1"}
    assert recorder.events == []  # nothing runs in the request
    assert await drain(worker) == 2  # the delivery, then its event
    [event] = recorder.events
    assert isinstance(event, PullChanged) and (event.repo, event.number) == (
        "Codertocat/Hello-World",
        2,
    )


async def test_redelivery_is_acknowledged_once(
    client: httpx.AsyncClient, worker: Worker, recorder: Recorder
) -> None:
    body = raw(OPENED)
    first = await post(client, body, **headers(body))
    second = await post(client, body, **headers(body))
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["status"] == "duplicate"
    await drain(worker)
    assert len(recorder.events) == 1


BAD_REQUESTS = [
    (
        "wrong signature",
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        None,
        401,
        "X-Hub-Signature-256",
    ),
    ("no signature", {"X-Hub-Signature-256": ""}, None, 401, "X-Hub-Signature-256"),
    ("no event header", {"X-GitHub-Event": ""}, None, 400, "X-GitHub-Event"),
    ("no delivery header", {"X-GitHub-Delivery": ""}, None, 400, "X-GitHub-Delivery"),
    ("truncated json", {}, b'{"action": ', 400, "malformed JSON"),
    ("json array", {}, b"[1, 2]", 400, "expected an object"),
    ("not utf-8", {}, b"\xff\xfe{}", 400, "malformed JSON"),
    (
        "form encoded",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"payload=%7B%7D",
        400,
        "content-type=application/x-www-form-urlencoded",
    ),
]


@pytest.mark.parametrize(
    ("case", "override", "body", "status", "message"),
    BAD_REQUESTS,
    ids=[c[0] for c in BAD_REQUESTS],
)
async def test_bad_requests_get_a_clear_answer_and_lose_nothing(
    client: httpx.AsyncClient,
    queue: SqliteJobQueue,
    worker: Worker,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    case: str,
    override: dict[str, str],
    body: bytes | None,
    status: int,
    message: str,
) -> None:
    payload = body if body is not None else raw(OPENED)
    sent = headers(payload, delivery="bad") | override
    rejected = deliveries("pull_request", "rejected")
    response = await post(client, payload, **{k: v for k, v in sent.items() if v})
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert (await queue.stats()).deliveries == 0
    # One access line: status, path and reason, the ids from the headers, no body, no secret.
    [line] = [r for r in caplog.records if r.name == "bot.intake"]
    assert line.getMessage().startswith(f"refusing webhook status={status} path=/webhooks/github")
    assert message in line.getMessage()
    assert (getattr(line, "delivery_id", None), getattr(line, "event", None)) == (
        sent.get("X-GitHub-Delivery") or None,
        sent.get("X-GitHub-Event") or None,
    )
    assert SECRET not in line.getMessage() and "zen" not in line.getMessage()
    if sent.get("X-GitHub-Event"):
        assert deliveries("pull_request", "rejected") == rejected + 1
    # The server stays up and the next good delivery goes through.
    good = raw(OPENED)
    assert (await post(client, good, **headers(good, delivery="good"))).status_code == 202
    await drain(worker)
    assert len(recorder.events) == 1


async def test_oversized_body_by_content_length(client: httpx.AsyncClient) -> None:
    body = b"{}"
    response = await client.post(
        "/webhooks/github",
        content=body,
        headers=headers(body) | {"Content-Length": str(10**9)},
    )
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


async def test_oversized_body_while_streaming(client: httpx.AsyncClient) -> None:
    chunk = b" " * 16 * 1024

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):  # 160 KiB against the 64 KiB cap, no Content-Length
            yield chunk

    response = await client.post(
        "/webhooks/github", content=chunks(), headers=headers(b"", delivery="big")
    )
    assert response.status_code == 413


async def test_unknown_event_is_recorded_as_ignored(
    client: httpx.AsyncClient, queue: SqliteJobQueue
) -> None:
    body = b'{"zen": "Anything added dilutes everything else.", "hook_id": 1}'
    response = await post(client, body, **headers(body, event="ping"))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    stats = await queue.stats()
    assert (stats.deliveries, stats.ready) == (1, 0)
    stored = await queue.get_delivery("d-1")
    assert stored is not None and stored.status == "ignored" and stored.body == body
    assert "x-hub-signature-256" not in stored.headers


# Signed, braces at both ends, and nested deeper than the JSON parser's recursion limit.
DEEP = b'{"action": "opened", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def _without_pull_user() -> bytes:
    payload = json.loads(raw(OPENED))
    del payload["pull_request"]["user"]
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("wrong", "problem"),
    [
        (b'{"action": "opened", "pull_request": {"number": 2}}', "missing field repository"),
        (_without_pull_user(), "pull_request.user: Field required"),  # found by githubkit
        (DEEP, "malformed JSON body: nested too deep to parse"),  # once: no retry parses it
    ],
)
async def test_payload_of_the_wrong_shape_is_dead_lettered_and_others_go_on(
    client: httpx.AsyncClient,
    worker: Worker,
    recorder: Recorder,
    tmp_path: Path,
    wrong: bytes,
    problem: str,
) -> None:
    assert (await post(client, wrong, **headers(wrong, delivery="wrong"))).status_code == 202
    good = raw(OPENED)
    assert (await post(client, good, **headers(good, delivery="good"))).status_code == 202
    await drain(worker)
    assert len(recorder.events) == 1
    [(_, kind, error)] = dead_jobs(tmp_path / "queue.sqlite3")  # the queue fixture's file
    assert kind == "delivery"
    assert "payload of the wrong shape delivery_id=wrong event=pull_request" in error
    assert problem in error


async def test_burst_of_pushes_of_one_image_makes_one_job(
    client: httpx.AsyncClient, worker: Worker, recorder: Recorder
) -> None:
    for n in range(10):
        body = json.dumps(tagged_ghcr_push(tag=f"1.0.{n}")).encode()
        response = await post(client, body, **headers(body, "registry_package", f"push-{n}"))
        assert response.status_code == 202
    assert await drain(worker) == 11
    [(event, context)] = recorder.calls
    assert isinstance(event, ImagePushed) and event.tag == "1.0.9"
    assert context.merged == 10


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_served_app_runs_the_worker_in_its_lifespan(
    settings: Settings, queue: SqliteJobQueue, recorder: Recorder
) -> None:
    router = Router(dict.fromkeys(event_types(), recorder))
    worker = Worker(queue, JobProcessor(queue, router), poll_interval=0.01)
    app = create_app(settings, queue, worker)
    body = raw(OPENED)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as client,
    ):
        assert gc.get_freeze_count() > 0  # what start-up built is out of the collector's sight
        assert (await post(client, body, **headers(body))).status_code == 202
        for _ in range(300):
            if recorder.events:
                break
            await asyncio.sleep(0.01)
    assert [type(e) for e in recorder.events] == [PullChanged]


async def test_worker_waits_for_webhooks_in_flight(queue: SqliteJobQueue) -> None:
    ran: list[float] = []

    async def handle(job: object) -> None:
        ran.append(time.monotonic())

    busy = [True]
    worker = Worker(queue, handle, poll_interval=0.01, max_deferral=0.05)
    worker.defer_while(lambda: busy[0])
    await queue.enqueue(NewJob(kind="event", payload="{}"))
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(worker.run(stop))
    await asyncio.sleep(0.02)
    assert ran == []  # still deferring to the intake
    await asyncio.sleep(0.1)
    stop.set()
    await task
    assert len(ran) == 1 and ran[0] - started >= 0.05  # ran once the deferral ran out
    # The bot's own: a burst of 1,000 deliveries takes about 1 s to answer on PostgreSQL
    # (docs/adr/0002-sqlite-job-table-and-postgresql.md, "Acknowledgements first").
    assert Worker(queue, handle).max_deferral == 2.0


async def test_not_ready_with_a_placeholder_secret(queue: SqliteJobQueue) -> None:
    settings = Settings(webhook_secret=SecretStr("changeme"), _env_file=None)
    app = create_app(settings, queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    problems = response.json()["problems"]
    assert "PROMOTION_BOT_WEBHOOK_SECRET is a placeholder" in problems
    assert "changeme" not in response.text
