"""New versions from outside: an image pushed, a git tag created, a release published.

Each offers a version to the apps it concerns, in every config of the installation, and lets
``proposals.propose`` find the environment it goes to next (normally the first one). An image
push offers the newest version seen of its image (the queue records every push before it may
coalesce them), so the order in which pushes arrive never decides the version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.core.inputs.events import ImagePushed, ReleasePublished, TagCreated, image_subjects
from bot.core.promotion.candidates import apps_for_image, candidates_for_git_tag, newest_seen
from bot.core.promotion.planner import Candidate
from bot.services.proposals import Outcome, propose
from bot.services.workspace import LoadedConfig, Workspace


async def handle_image_pushed(event: ImagePushed, ws: Workspace) -> list[Outcome]:
    """Offer every app built from the image the newest version seen that its first environment
    allows (the pushed tag itself when it allows none, so the refusal is reported)."""
    seen = dict(await ws.versions.versions_seen(image_subjects(event.image, ws.installation_id)))
    seen[event.tag] = event.digest or seen.get(event.tag)
    outcomes = []
    for loaded in await ws.configs_of_installation():
        for app in apps_for_image(loaded.config, event.image):
            candidate = await _newest(ws, loaded, app, seen, event)
            outcomes.append(await propose(ws, loaded, app, candidate))
    return outcomes


async def _newest(
    ws: Workspace,
    loaded: LoadedConfig,
    app: str,
    seen: Mapping[str, str | None],
    event: ImagePushed,
) -> Candidate:
    first = loaded.config.environments_of(app)[0].name
    _, _, state = await ws.env_state(loaded, app, first)
    newest = await asyncio.to_thread(
        newest_seen, loaded.config, app, seen, state, image=event.image
    )
    return newest or Candidate(
        event.tag, event.digest, source=f"image push {event.image}:{event.tag}"
    )


async def handle_tag_created(event: TagCreated, ws: Workspace) -> list[Outcome]:
    """Offer the image tag a git tag maps to (``tag_pattern``/``image_tag``)."""
    return await _offer_git_tag(ws, event.repo, event.tag, source=f"git tag {event.tag}")


async def handle_release_published(event: ReleasePublished, ws: Workspace) -> list[Outcome]:
    """A release offers its tag like a git tag; the policies decide about pre-releases."""
    return await _offer_git_tag(ws, event.repo, event.tag, source=f"release {event.tag}")


async def _offer_git_tag(ws: Workspace, repo: str, tag: str, *, source: str) -> list[Outcome]:
    outcomes = []
    for loaded in await ws.configs_of_installation():
        for app, candidate in candidates_for_git_tag(loaded.config, repo, tag, source=source):
            outcomes.append(await propose(ws, loaded, app, candidate))
    return outcomes
