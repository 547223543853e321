from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.adapters.metrics import REGISTRY
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import Worker
from bot.core.inputs.events import BaseEvent
from bot.entrypoints.routing import EventContext, JobProcessor, Router
from bot.entrypoints.web import create_app
from bot.settings import Settings
from tests.adapters.support import FakeClock
from tests.event_types import event_types

SECRET = "It's a Secret to Everybody"
REGISTRY_TOKENS = {
    "dockerhub": "dockerhub-token-0123456789",
    "harbor": "harbor-auth-header-0123456789",
    "distribution": "distribution-header-0123456789",
    "generic": "generic-hmac-secret-0123456789",
}


def deliveries(event: str, outcome: str) -> float:
    """The webhook delivery counter for ``event`` and ``outcome`` so far."""
    labels = {"event": event, "outcome": outcome}
    return REGISTRY.get_sample_value("promotion_bot_webhook_deliveries_total", labels) or 0.0


class Recorder:
    """A use-case handler that records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[BaseEvent, EventContext]] = []

    async def __call__(self, event: Any, context: EventContext) -> None:
        self.calls.append((event, context))

    @property
    def events(self) -> list[BaseEvent]:
        return [event for event, _ in self.calls]


@pytest.fixture
def settings() -> Settings:
    return Settings(
        app_id=1,
        private_key=SecretStr("-----BEGIN RSA PRIVATE KEY----- test key -----END"),
        webhook_secret=SecretStr(SECRET),
        registry_tokens={k: SecretStr(v) for k, v in REGISTRY_TOKENS.items()},
        max_body_bytes=64 * 1024,
        _env_file=None,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(tmp_path: Path, clock: FakeClock) -> Iterator[SqliteJobQueue]:
    q = SqliteJobQueue(tmp_path / "queue.sqlite3", clock=clock)
    yield q
    q.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(queue: SqliteJobQueue, recorder: Recorder) -> Worker:
    router = Router(dict.fromkeys(event_types(), recorder))
    return Worker(queue, JobProcessor(queue, router))


@pytest.fixture
async def client(settings: Settings, queue: SqliteJobQueue) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, queue)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as c:
        yield c
