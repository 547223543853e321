"""New versions from outside: an image pushed, a git tag created, a release published.

Each offers a version to the apps it concerns, in every config of the installation, and lets
``proposals.propose`` find the environment it goes to next (normally the first one).
"""

from __future__ import annotations

from bot.core.inputs.events import ImagePushed, ReleasePublished, TagCreated
from bot.core.promotion.candidates import apps_for_image, candidates_for_git_tag
from bot.core.promotion.planner import Candidate
from bot.services.proposals import Outcome, propose
from bot.services.workspace import Workspace


async def handle_image_pushed(event: ImagePushed, ws: Workspace) -> list[Outcome]:
    """Offer the pushed tag (and its digest) to every app built from the image."""
    candidate = Candidate(event.tag, event.digest, source=f"image push {event.image}:{event.tag}")
    outcomes = []
    for loaded in await ws.configs_of_installation():
        for app in apps_for_image(loaded.config, event.image):
            outcomes.append(await propose(ws, loaded, app, candidate))
    return outcomes


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
