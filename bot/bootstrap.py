"""The one place where adapters meet use cases: the routing table, the reconcile job and the
running bot.

``build_router(ports_for, clock, versions, installations)`` gives the worker its ``Router``:
every event type the intake produces is routed to its use case, each run with a fresh
``Workspace`` over the event's installation's ports and the versions the queue has seen; an
event that names no installation (a push to a registry outside GitHub) runs once per
installation of the App, listed fresh for each such event. A failure that
no retry can mend dead-letters the job at once with its reason (``JobRejected``): the event's
installation is no longer the App's, or GitHub answered 404. The config cache (parsed configs
by blob sha) lives as long as the ``Services`` object, i.e. the process. Handlers never sleep:
a rate limit surfaces as ``RetryLater`` from the adapter and the worker reschedules the job.

``run_bot(settings, ...)`` is the whole process, used by ``promotion-bot serve``, the demo and
the end-to-end tests: queue, GitHub gateway, router, worker, reconcile scheduler, redelivery
sweeper and the web app under uvicorn, until stopped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import uvicorn

from bot.adapters.catalog import builtin_policies
from bot.adapters.github import GitHubGateway
from bot.adapters.metrics import set_queue_stats
from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.redelivery import SWEEP_INTERVAL, sweeper_from_settings
from bot.adapters.worker import RetryPolicy, Worker
from bot.core.drift.schedule import DEFAULT_SCHEDULE
from bot.core.inputs.events import (
    BaseEvent,
    CheckActionRequested,
    CommentCreated,
    ConfigPushed,
    ImagePushed,
    InstallationChanged,
    IssueEdited,
    PassDue,
    PullChanged,
    PullClosed,
    ReleasePublished,
    TagCreated,
)
from bot.entrypoints.http_server import server_config
from bot.entrypoints.routing import EventContext, Handler, JobProcessor, Router, event_job
from bot.entrypoints.web import create_app
from bot.services import (
    bump,
    commands,
    config_watch,
    drift_report,
    drift_ticks,
    onboarding,
    promote,
    reconcile,
    review,
)
from bot.services.github_ports import NotFound, PortsFactory
from bot.services.ports import Clock, JobQueue, JobRejected, RetryLater, VersionsSeen
from bot.services.proposals import Outcome
from bot.services.scheduler import FreshInstallations, InstallationIds, PassScheduler, Task
from bot.services.workspace import ConfigCache, Workspace
from bot.settings import Settings

log = logging.getLogger("bot.bootstrap")

E = TypeVar("E", bound=BaseEvent)
UseCase = Callable[[E, Workspace], Awaitable[Any]]
Background = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

# Kept at least as long as GitHub's redelivery window (7 days on GHES) so redeliveries dedupe.
RETENTION = timedelta(days=14)
PRUNE_INTERVAL = timedelta(hours=6)
# How long the scheduler and the sweeper get to finish a pass at shutdown before being cancelled.
SHUTDOWN_GRACE_S = 5.0


@dataclass
class Services:
    """What the use cases share across jobs: ports per installation, the clock, the caches, and
    the App's installations (for events that name none)."""

    ports_for: PortsFactory
    clock: Clock
    configs: ConfigCache
    versions: VersionsSeen
    installations: InstallationIds | None = None
    # Drift reports are refreshed by the reconcile pass, for schedule slots since the last one.
    drift_schedule: str = DEFAULT_SCHEDULE
    pass_interval: timedelta = timedelta(hours=1)
    # The App's sweep of failed deliveries (``redeliver`` passes); none in the demo.
    sweep: Callable[[], Awaitable[object]] | None = None

    def workspace(self, installation_id: int | None) -> Workspace:
        ports = self.ports_for(installation_id)
        return Workspace(ports, self.configs, self.clock, self.versions, installation_id)

    def route(self, use_case: UseCase[E]) -> Handler:
        async def handler(event: E, context: EventContext) -> None:
            try:
                if event.installation_id is None and self.installations is not None:
                    await self._fan_out(use_case, event, self.installations)
                else:
                    await self._run(use_case, event, event.installation_id)
            except (RetryLater, JobRejected):
                raise
            except Exception as err:
                await self._reject_if_permanent(event, err)
                raise

        return handler

    async def _run(self, use_case: UseCase[E], event: E, installation_id: int | None) -> None:
        """``use_case`` on a fresh workspace; after a 404, once more with the installation's
        repository list read again: a repository added a moment ago is reached even before its
        ``installation_repositories`` event is handled (here or on another replica)."""
        try:
            await use_case(event, self.workspace(installation_id))
        except NotFound as err:
            log.info(
                "running event=%s again with the repository list read afresh: %s",
                type(event).__name__,
                err,
                extra={"installation_id": installation_id, "delivery_id": event.delivery_id},
            )
            workspace = self.workspace(installation_id)
            workspace.gh.installation.forget_repositories()
            await use_case(event, workspace)

    async def _reject_if_permanent(self, event: BaseEvent, err: Exception) -> None:
        """Raise ``JobRejected`` when retrying ``event`` cannot help: its installation is not
        among the App's (asked fresh: uninstalled, or never installed), or GitHub answered 404
        even with the repository list read afresh (a configured repository, branch or file the
        installation cannot reach)."""
        name = type(event).__name__
        installation_id = event.installation_id
        if installation_id is not None and self.installations is not None:
            try:
                known = installation_id in await self.installations()
            except Exception:
                known = True  # cannot tell now: the retry will ask again
            if not known:
                raise JobRejected(
                    f"event={name} names installation_id={installation_id}, which is not an "
                    f"installation of this app (uninstalled?): {err}"
                ) from err
        if isinstance(err, NotFound):
            raise JobRejected(f"event={name} cannot succeed, GitHub answered 404: {err}") from err

    async def _fan_out(
        self, use_case: UseCase[E], event: E, installations: InstallationIds
    ) -> None:
        """Run ``use_case`` for every installation. One failing does not stop the others; the
        first error is raised at the end so the job is retried (the use cases are idempotent:
        what was already proposed is skipped)."""
        failure: Exception | None = None
        for installation_id in await installations():
            try:
                await self._run(use_case, event, installation_id)
            except Exception as err:
                log.warning(
                    "running event=%s for installation_id=%d failed: %s",
                    type(event).__name__,
                    installation_id,
                    err,
                    extra={"installation_id": installation_id, "delivery_id": event.delivery_id},
                )
                failure = failure or err
        if failure is not None:
            raise failure

    def routes(self) -> dict[type[BaseEvent], Handler]:
        """Event type -> handler: the whole table, in one place."""
        return {
            ImagePushed: self.route(bump.handle_image_pushed),
            TagCreated: self.route(bump.handle_tag_created),
            ReleasePublished: self.route(bump.handle_release_published),
            PullClosed: self.route(promote.handle_pull_closed),
            PullChanged: self.route(review.handle_pull_changed),
            ConfigPushed: self.route(config_watch.handle_config_pushed),
            InstallationChanged: self.route(onboarding.handle_installation_changed),
            CommentCreated: self.route(commands.handle_comment_created),
            CheckActionRequested: self.route(commands.handle_check_action),
            IssueEdited: self.route(drift_ticks.handle_issue_edited),
            PassDue: self.run_pass,
        }

    async def run_pass(self, event: PassDue, context: EventContext) -> None:
        """A periodic pass the scheduler asked for (``bot.services.scheduler``). A pass that
        cannot succeed (its installation gone, a configured repository it cannot reach) is not
        a dead letter: it is logged, and the next slot asks again."""
        if event.task == "redeliver":
            if self.sweep is not None:
                await self.sweep()
            return
        try:
            await self.route(self._reconcile_pass)(event, context)
        except JobRejected as err:
            log.warning(
                "reconcile pass of installation_id=%s left until the next slot: %s",
                event.installation_id,
                err,
                extra={"installation_id": event.installation_id},
            )

    async def _reconcile_pass(self, event: PassDue, ws: Workspace) -> None:
        await self.reconcile_in(ws, since=event.slot - self.pass_interval)

    async def reconcile(self, installation_id: int) -> list[Outcome]:
        """One pass over ``installation_id`` now (see ``reconcile_in``)."""
        ws = self.workspace(installation_id)
        return await self.reconcile_in(ws, since=ws.clock() - self.pass_interval)

    async def reconcile_in(self, ws: Workspace, *, since: datetime) -> list[Outcome]:
        """The periodic pass over one installation: repair what webhooks missed, refresh the
        drift reports whose schedule has a slot since ``since`` (the previous pass), then open
        the onboarding PR of a repository installed while the bot was down."""
        outcomes = await reconcile.run_reconcile(ws)
        await drift_report.publish_due(ws, since=since, default_schedule=self.drift_schedule)
        await onboarding.run_onboarding(ws)
        return outcomes


def build_router(
    ports_for: PortsFactory,
    clock: Clock,
    versions: VersionsSeen,
    installations: InstallationIds | None = None,
) -> tuple[Router, Services]:
    """The worker's router and the services behind it (the scheduler calls ``reconcile``);
    ``versions``: the versions the intake has seen (the queue records them). Without
    ``installations``, an event that names no installation is rejected by ``ports_for``."""
    configs = ConfigCache(builtin_policies())
    services = Services(ports_for, clock, configs, versions, installations)
    return Router(services.routes()), services


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoredQueue(JobQueue, VersionsSeen, Protocol):
    """A queue engine as the running bot uses it: the port, the versions seen, and pruning."""

    async def prune(self, older_than: timedelta) -> int:
        """Delete finished work older than ``older_than``; how many jobs went."""


@asynccontextmanager
async def open_queue(settings: Settings) -> AsyncIterator[StoredQueue]:
    """The queue ``settings`` name: PostgreSQL at ``database_url``, shared by any number of
    processes; else the SQLite file at ``queue_path``, for one process. Refuses a PostgreSQL
    database whose schema is not this bot's (``SchemaError``: run ``promotion-bot db
    upgrade``)."""
    lease = timedelta(seconds=settings.lease_seconds)
    if settings.database_url is not None:
        # Imported here: a SQLite deployment never loads psycopg and Alembic (0.5 s a start).
        from bot.adapters.queue_postgres import PostgresJobQueue  # noqa: PLC0415

        url = settings.database_url.get_secret_value()
        shared = await PostgresJobQueue.open(url, lease=lease)
        try:
            yield shared
        finally:
            await shared.close()
        return
    # One process consumes a SQLite queue: leases found at start belong to one that is gone.
    local = SqliteJobQueue(settings.queue_path, lease=lease)
    try:
        yield local
    finally:
        local.close()


def received_by(queue: JobQueue) -> Callable[[str], Awaitable[bool]]:
    """Whether ``queue`` holds a delivery of a GUID (the redelivery sweep skips those)."""

    async def received(guid: str) -> bool:
        return await queue.get_delivery(guid) is not None

    return received


def gateway_over(settings: Settings, queue: StoredQueue) -> GitHubGateway:
    """The App's gateway; on PostgreSQL its write pace is shared by every replica."""
    shared = getattr(queue, "connection", None)  # only ``PostgresJobQueue`` shares its database
    return GitHubGateway.from_settings(settings, shared_pace=shared)


async def run_bot(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    sockets: Sequence[socket.socket] | None = None,
    stop: asyncio.Event | None = None,
    retry: RetryPolicy | None = None,
    intake: bool = True,
) -> None:
    """Serve the bot until ``stop`` is set (or SIGINT/SIGTERM, in the main thread), on
    ``host:port`` or on already bound ``sockets``; every task is stopped before it returns.
    ``retry`` replaces the policy built from ``settings.max_attempts`` (the demo's is short).
    Without ``intake`` (``promotion-bot worker``) no webhook is taken: the process works the
    queue, asks for the periodic passes and serves its probes and metrics."""
    stop = stop or asyncio.Event()
    async with open_queue(settings) as queue, gateway_over(settings, queue) as gateway:
        await prune(queue)
        installations = FreshInstallations(gateway.installation_ids)
        router, services = build_router(gateway.ports_for, utc_now, queue, installations)
        services.drift_schedule = settings.drift_schedule
        services.pass_interval = timedelta(seconds=settings.reconcile_interval)
        policy = retry or RetryPolicy(max_attempts=settings.max_attempts)
        processor = JobProcessor(queue, router)
        worker = Worker(queue, processor, concurrency=settings.workers, policy=policy)
        intervals: dict[Task, timedelta] = {"reconcile": services.pass_interval}
        if not settings.demo:  # the demo's sandbox drops no delivery worth sweeping for
            services.sweep = sweeper_from_settings(settings, received_by(queue)).sweep
            intervals["redeliver"] = SWEEP_INTERVAL
        scheduler = PassScheduler(
            lambda due: queue.enqueue(event_job(due)),
            installations,
            queue,
            intervals=intervals,
            record_stats=set_queue_stats,
        )
        background: dict[str, Background] = {
            "pass-scheduler": scheduler.run,
            "retention": lambda s: prune_every(queue, s, PRUNE_INTERVAL),
        }
        config = server_config(create_app(settings, queue, worker, intake=intake), host, port)
        await _serve(uvicorn.Server(config), sockets, stop, background)


async def prune(queue: StoredQueue) -> None:
    pruned = await queue.prune(RETENTION)
    log.info("pruned finished jobs and deliveries count=%d older_than=%s", pruned, RETENTION)


async def prune_every(queue: StoredQueue, stop: asyncio.Event, interval: timedelta) -> None:
    """Prune every ``interval`` until ``stop``: a bot that runs for months keeps two weeks of
    deliveries and spool segments, not all of them."""
    while True:
        try:
            await asyncio.wait_for(stop.wait(), interval.total_seconds())
            return
        except TimeoutError:
            await prune(queue)


async def _serve(
    server: uvicorn.Server,
    sockets: Sequence[socket.socket] | None,
    stop: asyncio.Event,
    background: dict[str, Background],
) -> None:
    """Run ``server`` and the ``background`` loops until ``stop`` or a signal, then stop them."""
    done = asyncio.Event()
    tasks = [asyncio.create_task(run(done), name=name) for name, run in background.items()]

    async def exit_on_stop() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(exit_on_stop(), name="stop-watcher")
    restore = _stop_on_signals(stop)
    try:
        await server.serve(sockets=list(sockets) if sockets is not None else None)
    finally:
        done.set()
        watcher.cancel()
        await _finish(tasks)
        restore()
        log.info("bot stopped")


def _stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Handlers that set ``stop``: uvicorn installs its own while it serves and, once it has
    shut down, raises the signal again to the handlers it found; these let the rest of the
    process stop cleanly instead of dying there. Returns the function restoring the old ones."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals can be handled in the main thread only
    loop = asyncio.get_running_loop()
    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {
        sig: signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set)) for sig in handled
    }

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
    for task in pending:
        log.warning("cancelling task=%s: still running at shutdown", task.get_name())
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
