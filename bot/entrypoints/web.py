"""The web application: webhook endpoints, health probes, and the worker in the lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.adapters.metrics import render_metrics, set_queue_stats
from bot.adapters.worker import Worker
from bot.entrypoints.registries import registry_router
from bot.entrypoints.setup import installed_router
from bot.entrypoints.translate import load_githubkit_models
from bot.entrypoints.webhooks import github_router
from bot.services.ports import JobQueue
from bot.services.scheduler import QueueStatsSource
from bot.settings import Settings, settings_problems

log = logging.getLogger("bot.web")


class InFlight:
    """How many webhook requests are being answered (the worker lets them go first), counted
    by the ASGI ``middleware``: a route dependency doing the same cost more than the route."""

    def __init__(self) -> None:
        self.count = 0

    def busy(self) -> bool:
        return self.count > 0

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            webhook = scope["type"] == "http" and scope["path"].startswith("/webhooks/")
            self.count += webhook
            try:
                await app(scope, receive, send)
            finally:
                self.count -= webhook

        return counting


def metrics_router(queue: QueueStatsSource) -> APIRouter:
    """``GET /metrics``; the queue's depth is read at each scrape."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        set_queue_stats(await queue.stats())
        return Response(render_metrics(), media_type=CONTENT_TYPE_LATEST)

    return router


def create_app(
    settings: Settings, queue: JobQueue, worker: Worker | None = None, *, intake: bool = True
) -> FastAPI:
    """The web app; with ``worker`` it also runs the job loops for the app's lifetime. Without
    ``intake`` (``promotion-bot worker``) it takes no webhook: probes and metrics only."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if worker is None:
            yield
            return
        load_githubkit_models()  # before the first request is accepted
        # Start-up's objects live on: frozen, no full collection walks them (ADR 0002, gc.freeze)
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

    app = FastAPI(title="Promotion Bot", lifespan=lifespan, docs_url=None, redoc_url=None)
    in_flight = InFlight()
    app.add_middleware(in_flight.middleware)
    if intake:
        app.include_router(github_router(settings, queue))
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
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        return JSONResponse({"status": "ready", "queue": vars(stats)}, 200)

    return app
