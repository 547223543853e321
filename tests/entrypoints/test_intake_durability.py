"""Nothing acknowledged is lost: a 202 goes out only after the delivery is committed.

Checked three ways: a burst through the ASGI app, the queue file read by another connection at
the moment each answer starts; a real server killed with SIGKILL in the middle of a burst, its
queue then reopened; and a store that fails, which must answer 503 rather than 202.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import Message, Receive, Scope, Send

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.entrypoints.web import create_app
from bot.entrypoints.webhooks import sign
from bot.services.ports import Delivery, Job, NewJob
from bot.settings import Settings
from tests.entrypoints.conftest import SECRET, deliveries
from tests.entrypoints.payloads import raw

ROOT = Path(__file__).resolve().parents[2]
BODY = raw("api.github.com/pull_request/opened.payload.json")


def signed(delivery_id: str, event: str = "pull_request") -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign(SECRET.encode(), BODY),
        "Content-Type": "application/json",
    }


def committed_ids(db: Path) -> set[str]:
    """The delivery ids committed to the queue at ``db``, read by a connection of its own."""
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT delivery_id FROM deliveries")}
    finally:
        conn.close()


def stored_ids(db: Path) -> set[str]:
    """The delivery ids the queue at ``db`` holds once reopened, as after a crash."""
    SqliteJobQueue(db).close()
    return committed_ids(db)


async def test_a_burst_is_stored_before_each_answer(
    settings: Settings, queue: SqliteJobQueue, tmp_path: Path
) -> None:
    db = tmp_path / "queue.sqlite3"  # the ``queue`` fixture's file
    app = create_app(settings, queue)
    unseen: list[str] = []

    async def checking(scope: Scope, receive: Receive, send: Send) -> None:
        """The app, with the store read at the moment each 202 starts to go out."""

        async def checked_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 202:
                delivery_id = dict(scope["headers"])[b"x-github-delivery"].decode()
                if delivery_id not in committed_ids(db):
                    unseen.append(delivery_id)
            await send(message)

        await app(scope, receive, checked_send)

    transport = httpx.ASGITransport(app=checking)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        statuses = await asyncio.gather(
            *(
                client.post("/webhooks/github", content=BODY, headers=signed(f"b-{n}"))
                for n in range(60)
            )
        )
    assert [r.status_code for r in statuses] == [202] * 60
    assert unseen == []


async def test_each_answer_is_counted_by_event_and_outcome(client: httpx.AsyncClient) -> None:
    before = {o: deliveries("pull_request", o) for o in ("queued", "duplicate")}
    ignored = deliveries("ping", "ignored")
    for delivery_id in ("m-1", "m-1", "m-2"):
        await client.post("/webhooks/github", content=BODY, headers=signed(delivery_id))
    ping = b'{"zen": "Keep it logically awesome."}'
    headers = signed("m-3", "ping") | {"X-Hub-Signature-256": sign(SECRET.encode(), ping)}
    assert (await client.post("/webhooks/github", content=ping, headers=headers)).is_success
    assert deliveries("pull_request", "queued") == before["queued"] + 2
    assert deliveries("pull_request", "duplicate") == before["duplicate"] + 1
    assert deliveries("ping", "ignored") == ignored + 1


async def test_only_post_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.get("/webhooks/github")
    assert response.status_code == 405 and response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "POST"


class BrokenQueue(SqliteJobQueue):
    async def accept_delivery(self, delivery: Delivery, job: NewJob | None) -> bool:
        raise sqlite3.OperationalError("database or disk is full")


async def test_a_store_that_fails_is_a_503_never_a_202(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = BrokenQueue(tmp_path / "broken.sqlite3")
    try:
        transport = httpx.ASGITransport(app=create_app(settings, queue))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            response = await client.post("/webhooks/github", content=BODY, headers=signed("f-1"))
    finally:
        queue.close()
    assert response.status_code == 503 and "could not be stored" in response.json()["detail"]
    [line] = [r for r in caplog.records if r.name == "bot.intake"]
    assert line.getMessage() == "storing github delivery failed"
    assert getattr(line, "delivery_id", None) == "f-1" and line.exc_info is not None


def crash_app() -> FastAPI:
    """What ``test_sigkill_mid_burst_loses_no_acknowledged_delivery`` serves (uvicorn factory)."""
    settings = Settings(webhook_secret=SecretStr(SECRET), demo=True, _env_file=None)
    return create_app(settings, SqliteJobQueue(os.environ["CRASH_TEST_QUEUE"]))


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    app = "tests.entrypoints.test_intake_durability:crash_app"
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(port)]
    command += ["--log-level", "warning"]
    env = os.environ | {"CRASH_TEST_QUEUE": str(db)}
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return server
        except httpx.TransportError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"test server did not start port={port}")


async def test_sigkill_mid_burst_loses_no_acknowledged_delivery(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    db = tmp_path / "crash.sqlite3"
    server = serve(db, unused_tcp_port)
    acknowledged: list[str] = []
    url = f"http://127.0.0.1:{unused_tcp_port}/webhooks/github"

    async def lane(client: httpx.AsyncClient, lane: int) -> None:
        for n in range(10_000):
            delivery_id = f"k-{lane}-{n}"
            try:
                response = await client.post(url, content=BODY, headers=signed(delivery_id))
            except httpx.TransportError:
                return  # the server is gone; this one was never answered
            if response.status_code == 202:
                acknowledged.append(delivery_id)

    async def kill_after_some() -> None:
        while len(acknowledged) < 200:
            await asyncio.sleep(0.005)
        server.send_signal(signal.SIGKILL)

    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await asyncio.gather(kill_after_some(), *(lane(client, n) for n in range(16)))
    finally:
        server.kill()
        server.wait(10)
    assert server.returncode == -signal.SIGKILL
    missing = set(acknowledged) - stored_ids(db)
    assert len(acknowledged) >= 200 and missing == set()


async def test_the_worker_waits_while_a_webhook_is_being_answered(
    settings: Settings, queue: SqliteJobQueue
) -> None:
    ran: list[Job] = []

    async def handle(job: Job) -> None:
        ran.append(job)

    worker = Worker(queue, handle, poll_interval=0.01, max_deferral=30)
    app = create_app(settings, queue, worker)
    streaming = asyncio.Event()
    seen_while_streaming: list[int] = []

    async def slow_body() -> AsyncIterator[bytes]:
        yield BODY[:100]
        await queue.enqueue(NewJob(kind="event", payload="{}"))
        streaming.set()
        await asyncio.sleep(0.2)  # twenty worker polls
        seen_while_streaming.append(len(ran))
        yield BODY[100:]

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://bot") as client,
    ):
        response = await client.post("/webhooks/github", content=slow_body(), headers=signed("s"))
        for _ in range(300):
            if len(ran) == 2:  # the event job and the delivery's job
                break
            await asyncio.sleep(0.01)
    assert response.status_code == 202
    assert streaming.is_set() and seen_while_streaming == [0] and len(ran) == 2
