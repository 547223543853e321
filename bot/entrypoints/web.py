"""The web application: webhook endpoints, health probes, and the worker in the lifespan.

``POST /webhooks/github`` is answered before FastAPI sees the request (``BotApp.__call__``):
its middleware stack and dependency machinery cost more than everything the endpoint does
(see docs/benchmarks.md). Every other route is a plain FastAPI route.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.adapters.metrics import render_metrics, set_queue_stats
from bot.adapters.worker import Worker
from bot.entrypoints.registries import registry_router
from bot.entrypoints.setup import installed_router
from bot.entrypoints.translate import load_githubkit_models
from bot.entrypoints.webhooks import GITHUB_PATH, GitHubWebhooks
from bot.services.ports import JobQueue, QueueStats
from bot.settings import Settings, settings_problems

log = logging.getLogger("bot.web")


class InFlight:
    """How many webhook requests are being answered right now."""

    def __init__(self) -> None:
        self.count = 0

    def busy(self) -> bool:
        return self.count > 0


class BotApp(FastAPI):
    """FastAPI, with ``/webhooks/github`` answered by ``github`` ahead of the middleware stack
    and every ``/webhooks/`` request counted in ``in_flight``."""

    def __init__(self, github: ASGIApp, in_flight: InFlight, **options: Any) -> None:
        super().__init__(**options)
        self.github = github
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/webhooks/"):
            await super().__call__(scope, receive, send)
            return
        self.in_flight.count += 1
        try:
            if scope["path"] == GITHUB_PATH:
                await self.github(scope, receive, send)
            else:
                await super().__call__(scope, receive, send)
        finally:
            self.in_flight.count -= 1


class QueueStatsSource(Protocol):
    """The part of ``JobQueue`` the scrape reads."""

    async def stats(self) -> QueueStats:
        """Counts by state."""


def metrics_router(queue: QueueStatsSource | None = None) -> APIRouter:
    """``GET /metrics``; with ``queue``, its depth is read at each scrape."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        if queue is not None:
            set_queue_stats(await queue.stats())
        return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_app(settings: Settings, queue: JobQueue, worker: Worker | None = None) -> FastAPI:
    """The web app; with ``worker`` it also runs the job loops for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker is None:
            yield
            return
        load_githubkit_models()  # before the first request is accepted
        # Startup leaves ~300k long-lived objects (githubkit's models); a full collection over
        # them stalls the event loop for 150 ms. Frozen, the collector skips them for good.
        gc.collect()
        gc.freeze()
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop), name="worker")
        log.info("worker started concurrency=%d", worker.concurrency)
        try:
            yield
        finally:
            stop.set()
            worker.wake()
            await task
            log.info("worker stopped")

    in_flight = InFlight()
    app = BotApp(
        GitHubWebhooks(settings, queue),
        in_flight,
        title="Promotion Bot",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(registry_router(settings, queue))
    app.include_router(metrics_router(queue))
    app.include_router(installed_router())
    if worker is not None:
        worker.defer_while(in_flight.busy)  # acknowledgements first, the queue can wait

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        problems = settings_problems(settings)
        try:
            stats = await queue.stats()
        except Exception as err:
            problems.append(f"queue unreachable: {type(err).__name__}: {err}")
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        return JSONResponse({"status": "ready", "queue": vars(stats)}, 200)

    return app
