"""The one place where adapters meet use cases: the routing table and the reconcile job.

``build_router(ports_for, clock)`` gives the worker its ``Router``: every event type the intake
produces is routed to its use case, each run with a fresh ``Workspace`` over the event's
installation's ports. The config cache (parsed configs by blob sha) lives as long as the
``Services`` object, i.e. the process. Handlers never sleep: a rate limit surfaces as
``RetryLater`` from the adapter and the worker reschedules the job.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.core.events import (
    BaseEvent,
    ConfigPushed,
    ImagePushed,
    InstallationChanged,
    PullChanged,
    PullClosed,
    ReleasePublished,
    TagCreated,
)
from bot.entrypoints.routing import EventContext, Handler, Router
from bot.services import bump, config_watch, promote, reconcile, review
from bot.services.github_ports import PortsFactory
from bot.services.ports import Clock
from bot.services.proposals import Outcome
from bot.services.workspace import ConfigCache, Workspace

E = TypeVar("E", bound=BaseEvent)
UseCase = Callable[[E, Workspace], Awaitable[Any]]


@dataclass
class Services:
    """What the use cases share across jobs: ports per installation, the clock, the caches."""

    ports_for: PortsFactory
    clock: Clock
    configs: ConfigCache = field(default_factory=ConfigCache)

    def workspace(self, installation_id: int | None) -> Workspace:
        return Workspace(self.ports_for(installation_id), self.configs, self.clock, installation_id)

    def route(self, use_case: UseCase[E]) -> Handler:
        async def handler(event: E, context: EventContext) -> None:
            await use_case(event, self.workspace(event.installation_id))

        return handler

    def routes(self) -> dict[type[BaseEvent], Handler]:
        """Event type -> handler: the whole table, in one place."""
        return {
            ImagePushed: self.route(bump.handle_image_pushed),
            TagCreated: self.route(bump.handle_tag_created),
            ReleasePublished: self.route(bump.handle_release_published),
            PullClosed: self.route(promote.handle_pull_closed),
            PullChanged: self.route(review.handle_pull_changed),
            ConfigPushed: self.route(config_watch.handle_config_pushed),
            InstallationChanged: self.route(config_watch.handle_installation_changed),
        }

    async def reconcile(self, installation_id: int) -> list[Outcome]:
        """The periodic repair job for one installation."""
        return await reconcile.run_reconcile(self.workspace(installation_id))


def build_router(ports_for: PortsFactory, clock: Clock) -> tuple[Router, Services]:
    """The worker's router and the services behind it (the scheduler calls ``reconcile``)."""
    services = Services(ports_for, clock)
    return Router(services.routes()), services
