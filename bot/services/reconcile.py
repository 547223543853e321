"""Reconciling: repair lost webhooks by comparing what runs with what the sources offer.

For every app of every config: the newest version its source offers (every git tag of
``source``, read in full because GitHub's listing order says nothing about versions, mapped
through ``tag_pattern``; else the container package's tags on GitHub's registry) that the
first environment's policy allows, and each environment's version for the environment after it,
go through the same planner as webhook events. What is already proposed or declined stays as it
is, so running it again changes nothing.
"""

from __future__ import annotations

import logging

from bot.core.files.images import ImageRefError, parse_image_ref
from bot.core.promotion.candidates import offered_image_tags, reconcile_candidates
from bot.core.promotion.envfiles import EnvState
from bot.services.github_ports import NotFound
from bot.services.proposals import Outcome, propose
from bot.services.workspace import LoadedConfig, Workspace

log = logging.getLogger("bot.services")

_GITHUB_REGISTRY = "ghcr.io"


async def run_reconcile(ws: Workspace) -> list[Outcome]:
    """Propose whatever the installation's environments are missing."""
    outcomes: list[Outcome] = []
    for loaded in await ws.configs_of_installation():
        for app in loaded.config.apps:
            outcomes += await _reconcile_app(ws, loaded, app)
    opened = sum(1 for o in outcomes if o.action != "skipped")
    log.info("reconciled installation_id=%s proposals=%d", ws.installation_id, opened)
    return outcomes


async def _reconcile_app(ws: Workspace, loaded: LoadedConfig, app: str) -> list[Outcome]:
    config = loaded.config
    states: dict[str, EnvState] = {}
    for env in config.environments_of(app):
        _, _, states[env.name] = await ws.env_state(loaded, app, env.name)
    offered = await _offered(ws, loaded, app)
    return [
        await propose(ws, loaded, app, candidate)
        for candidate in reconcile_candidates(config, app, states, offered)
    ]


async def _offered(ws: Workspace, loaded: LoadedConfig, app: str) -> tuple[str, ...]:
    spec = loaded.config.apps[app]
    try:
        if spec.source is not None:
            tags = await ws.gh.sources.list_tags(spec.source)
            return offered_image_tags(loaded.config, app, tags)
        if _on_github_registry(spec.image):
            return await ws.gh.sources.list_container_versions(spec.image)
    except NotFound as err:
        log.warning("no versions offered app=%s image=%s: %s", app, spec.image, err)
    return ()


def _on_github_registry(image: str) -> bool:
    try:
        return parse_image_ref(image).domain == _GITHUB_REGISTRY
    except ImageRefError:
        return False
