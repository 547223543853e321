"""Onboarding: a repository the App is installed on that holds image references in environments
but no config gets one pull request proposing ``.github/promotion.yml``.

It runs when repositories are added to an installation (``installation.created``,
``installation_repositories.added``) and in every reconcile pass, for repositories installed while
the bot was down. GitHub is the record, as for promotions: the PR is found again by its branch
(``ONBOARDING_BRANCH``) and the hidden metadata (kind ``onboarding``) of a PR the bot opened.
Any such PR, open, closed or merged, means the question was asked: the bot never opens another,
so a redelivery, a restart or a second replica cannot make a second one (and GitHub refuses a
second open PR from one branch). While the PR is open, each pass proposes the config again from
the default branch as it is now (as Renovate does), unless a person has committed on the branch.

The API budget, per repository: the branch heads (one call), the default branch's tree (one,
cached by commit sha), the environment branches' trees (branch layout), then the onboarding
branch's PRs (one call) before any file is read; only then the files of the environments the
bot reads for images, YAML and Terraform (``Layout.wanted``; cached by blob sha, at most
``MAX_FILES`` shared by the environments), and to open: four writes reserved together from the
pace (tree, commit, ref, PR), as a proposal does. An open PR whose proposal has not changed costs
nothing more once its branch's tree and config were read (cached by sha); a changed one, the
branch's commits (one call), then the same four writes (the PR's body, not a new PR).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.core.config import DEFAULT_FILE, ConfigError, parse_config
from bot.core.config.onboarding import (
    ONBOARDING_BRANCH,
    Layout,
    find_layout,
    propose,
)
from bot.core.config.onboarding_render import (
    ONBOARDING_TITLE,
    render_config,
    render_onboarding_body,
)
from bot.core.inputs.events import InstallationChanged
from bot.core.markup.metadata import extract
from bot.services import config_watch
from bot.services.github_ports import CommitSpec, GitHubError, NotFound, Pull, Repository, Tree
from bot.services.proposals import PROPOSAL_WRITES
from bot.services.workspace import Workspace

log = logging.getLogger("bot.services")

COMMIT_MESSAGE = f"Add {DEFAULT_FILE} for Promotion Bot"
# The files read to find images, at most, per repository (shared by its environments).
MAX_FILES = 200
# The actions that give an installation repositories it did not reach before.
ADDING = frozenset({"created", "added"})


@dataclass(frozen=True)
class Onboarded:
    """What onboarding did for one repository, with the reason when it did nothing."""

    repo: str
    action: Literal["opened", "updated", "skipped"]
    reason: str = ""
    number: int | None = None


async def handle_installation_changed(event: InstallationChanged, ws: Workspace) -> list[Onboarded]:
    """Forget what was cached about the installation's repositories; propose a config to each
    repository added."""
    await config_watch.handle_installation_changed(event, ws)
    if event.action not in ADDING:
        return []
    reachable = await ws.repositories()
    return [
        await onboard(ws, reachable[name.lower()])
        for name in event.repositories_added
        if name.lower() in reachable
    ]


async def run_onboarding(ws: Workspace) -> list[Onboarded]:
    """The reconcile pass: every repository of the installation (one with a config costs
    nothing the pass has not read already; one asked before, the PR lookup)."""
    return [await _onboard_safely(ws, repo) for repo in (await ws.repositories()).values()]


async def _onboard_safely(ws: Workspace, repo: Repository) -> Onboarded:
    """``onboard`` in a pass, where one repository GitHub fails on does not stop the others
    (the next pass tries it again; a rate limit, ``RetryLater``, still stops the pass: the
    others would hit it too)."""
    try:
        return await onboard(ws, repo)
    except GitHubError as err:
        log.warning("onboarding failed repo=%s: %s", repo.full_name, err)
        return Onboarded(repo.full_name, "skipped", f"failed: {err}")


async def onboard(ws: Workspace, repo: Repository) -> Onboarded:
    """Open the onboarding PR of ``repo`` unless it needs none or was asked already."""
    name = repo.full_name
    if repo.archived:
        return _skipped(name, "archived")
    try:
        heads = await ws.heads(name)
    except NotFound:
        return _skipped(name, "empty")
    tree = await ws.tree_of(name, repo.default_branch)
    if tree is None:
        return _skipped(name, f"no default branch {repo.default_branch}")
    if DEFAULT_FILE in tree.blobs:
        return _skipped(name, "configured")
    layout = find_layout(tuple(tree.blobs), tuple(heads), default_branch=repo.default_branch)
    if layout is None:
        return _skipped(name, "no directory or branch named like an environment")
    asked = await _asked(ws, name)
    if asked is not None and asked.state != "open":
        state = "merged" if asked.merged else asked.state
        return _skipped(name, f"asked before in #{asked.number} ({state})", asked.number)
    texts = await _texts(ws, name, tree, layout)
    proposal = await asyncio.to_thread(propose, layout, texts)
    if not proposal.environments:
        return _skipped(name, "no image reference in the environments")
    config = render_config(proposal)
    try:  # a file the bot itself would refuse is never proposed
        parse_config(config, file=DEFAULT_FILE, builtin=ws.configs.builtin)
    except ConfigError as err:
        return _skipped(name, f"the config it would propose is invalid: {err}")
    body = render_onboarding_body(proposal, config, file=DEFAULT_FILE)
    if asked is not None:
        return await _refresh(ws, repo, tree, asked, config=config, body=body)
    await _write(ws, repo, tree, config, create=ONBOARDING_BRANCH not in heads)
    pull = await ws.gh.pulls.open(
        name, head=ONBOARDING_BRANCH, base=repo.default_branch, title=ONBOARDING_TITLE, body=body
    )
    apps = len(proposal.apps)
    log.info("onboarding pr opened repo=%s number=%d apps=%d", name, pull.number, apps)
    return Onboarded(name, "opened", number=pull.number)


async def _refresh(
    ws: Workspace, repo: Repository, tree: Tree, asked: Pull, *, config: str, body: str
) -> Onboarded:
    """Propose ``config`` again in the open onboarding PR when the default branch now gives
    another one (an environment or an image added), as long as only the bot wrote on the
    branch: a person's edit is theirs to finish. Nothing changed costs no call (the trees and
    files are cached by sha)."""
    name, number = repo.full_name, asked.number
    asked_before = _skipped(name, f"asked before in #{number} (open)", number)
    branch = await ws.tree_of(name, ONBOARDING_BRANCH)
    if branch is None:
        return asked_before
    proposed = (await ws.read_files(name, branch, (DEFAULT_FILE,))).texts.get(DEFAULT_FILE)
    if proposed == config:
        return asked_before
    written = await ws.gh.git.commits_between(name, repo.default_branch, ONBOARDING_BRANCH)
    if any(commit.author != ws.gh.bot_login for commit in written):
        return _skipped(name, f"#{number} (open) was edited by a person", number)
    await _write(ws, repo, tree, config, create=False)
    await ws.gh.pulls.update(name, number, title=asked.title, body=body)  # the title may be theirs
    log.info("onboarding pr updated repo=%s number=%d", name, number)
    return Onboarded(name, "updated", number=number)


async def _write(ws: Workspace, repo: Repository, tree: Tree, config: str, *, create: bool) -> None:
    """Point the onboarding branch at ``tree`` with ``config`` added."""
    spec = CommitSpec(
        base=tree,
        files={DEFAULT_FILE: config},
        message=COMMIT_MESSAGE,
        branch=ONBOARDING_BRANCH,
        create=create,
    )
    # A tree, a commit, the ref, the PR: taken together, so the pace never stops this half-way.
    await ws.gh.pace.reserve(PROPOSAL_WRITES)
    await ws.gh.git.commit_files(repo.full_name, spec)
    ws.forget_heads(repo.full_name)


async def _asked(ws: Workspace, repo: str) -> Pull | None:
    """The newest onboarding PR the bot opened in ``repo``, in any state."""
    for pull in await ws.gh.pulls.history(repo, ONBOARDING_BRANCH):
        meta = extract(pull.body) if pull.by_bot else None
        if meta is not None and meta.kind == "onboarding":
            return pull
    return None


async def _texts(
    ws: Workspace, repo: str, tree: Tree, layout: Layout
) -> Mapping[str, Mapping[str, str]]:
    """Environment name -> the texts of its first files (YAML and Terraform, within the read
    bounds; an environment that is one file, that file): at most ``MAX_FILES`` in all, shared
    equally, so a big first environment cannot crowd out prod."""
    share = max(1, MAX_FILES // len(layout.places))
    texts: dict[str, Mapping[str, str]] = {}
    for place in layout.places:
        at = tree if place.branch is None else await ws.tree_of(repo, place.branch)
        if at is not None:
            wanted = layout.wanted(place, at.blobs)[:share]
            texts[place.name] = (await ws.read_files(repo, at, wanted)).texts
    return texts


def _skipped(repo: str, reason: str, number: int | None = None) -> Onboarded:
    log.info("no onboarding pr repo=%s: %s", repo, reason)
    return Onboarded(repo, "skipped", reason, number)
