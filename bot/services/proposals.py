"""Proposing a version: plan with the pure planner, then open or update the promotion PR.

Shared by every trigger (image pushes, git tags, merged PRs, reconciling). The environments'
files are read only as the planner asks for them, and the promotion branch's PRs only when the
branch exists (a branch that does not exist has no PRs), which keeps opening a PR within seven
calls (see ``bot.services.github_ports``). The planner parses the environments' files, so it
runs off the event loop (``asyncio.to_thread``), on files already within the bounds of
``bot.core.files.bounds``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bot.core.promotion.branches import branch_name
from bot.core.promotion.candidates import pull_history
from bot.core.promotion.envfiles import EnvState
from bot.core.promotion.holds import holding
from bot.core.promotion.planner import (
    Candidate,
    NeedState,
    PromotionPlan,
    PullHistory,
    Skip,
    Target,
    choose_target,
    plan_promotion,
)
from bot.services.github_ports import CommitSpec, Tree
from bot.services.workspace import LoadedConfig, Location, Workspace, pull_record

log = logging.getLogger("bot.services")

PROPOSAL_WRITES = 4


@dataclass(frozen=True)
class Outcome:
    """What proposing a version did, with the reason when it did nothing."""

    app: str
    environment: str | None
    action: Literal["opened", "updated", "skipped"]
    reason: str = ""
    number: int | None = None


@dataclass(frozen=True)
class _Read:
    location: Location
    tree: Tree | None
    state: EnvState


@dataclass(frozen=True)
class Choice:
    """Where a version goes next, with that environment's files as read to decide."""

    target: Target
    read: _Read


async def choose(
    ws: Workspace,
    loaded: LoadedConfig,
    app: str,
    candidate: Candidate,
    *,
    reached: frozenset[str] = frozenset(),
) -> Choice | Skip:
    """The environment ``candidate`` goes to next, reading environments only as asked."""
    reads: dict[str, _Read] = {}
    while True:
        states: Mapping[str, EnvState] = {name: read.state for name, read in reads.items()}
        decision = await asyncio.to_thread(
            choose_target, loaded.config, app, candidate, states, reached=reached
        )
        if not isinstance(decision, NeedState):
            break
        where, tree, state = await ws.env_state(loaded, app, decision.environment)
        reads[decision.environment] = _Read(where, tree, state)
    if isinstance(decision, Skip):
        return decision
    return Choice(decision, reads[decision.environment])


async def propose(
    ws: Workspace,
    loaded: LoadedConfig,
    app: str,
    candidate: Candidate,
    *,
    reached: frozenset[str] = frozenset(),
) -> Outcome:
    """Find the environment ``candidate`` goes to next and open or update its PR."""
    return await propose_choice(
        ws, loaded, await choose(ws, loaded, app, candidate, reached=reached), candidate
    )


async def propose_choice(
    ws: Workspace, loaded: LoadedConfig, choice: Choice | Skip, candidate: Candidate
) -> Outcome:
    """Open or update the PR ``choice`` targets, unless a hold stops it (a rollback places
    its own hold, so only a rollback goes through one)."""
    if isinstance(choice, Skip):
        return _skipped(choice, candidate)
    target = choice.target
    hold = holding(await ws.holds(loaded), target.app, target.environment)
    if hold is not None and not candidate.rollback:
        return _skipped(Skip(target.app, target.environment, hold.summary()), candidate)
    read = choice.read
    if read.tree is None:
        return _skipped(
            Skip(target.app, target.environment, "its branch does not exist"), candidate
        )
    repo = read.location.repo
    branch = branch_name(target.app, target.environment)
    exists = branch in await ws.heads(repo)
    history = await _history(ws, repo, branch, target) if exists else PullHistory()
    plan = await asyncio.to_thread(
        plan_promotion, loaded.config, target, candidate, read.state, history, web_url=ws.gh.web_url
    )
    if isinstance(plan, Skip):
        return _skipped(plan, candidate)
    return await _apply(ws, read.location, read.tree, plan, branch_exists=exists)


async def _history(ws: Workspace, repo: str, branch: str, target: Target) -> PullHistory:
    pulls = await ws.gh.pulls.history(repo, branch)
    records = (pull_record(pull) for pull in pulls)
    return pull_history(records, app=target.app, environment=target.environment)


async def _apply(
    ws: Workspace, where: Location, base: Tree, plan: PromotionPlan, *, branch_exists: bool
) -> Outcome:
    repo = where.repo
    action: Literal["opened", "updated"]
    spec = CommitSpec(
        base=base,
        files=plan.edits,
        message=plan.commit_message,
        branch=plan.branch,
        create=not branch_exists,
    )
    # A tree, a commit, the ref, the PR: taken together, so the pace never stops this half-way.
    await ws.gh.pace.reserve(PROPOSAL_WRITES)
    await ws.gh.git.commit_files(repo, spec)
    ws.forget_heads(repo)
    if plan.action == "update" and plan.pull_number is not None:
        # Title and body only: the labels are the people's too (the review pass adds ours).
        await ws.gh.pulls.update(repo, plan.pull_number, title=plan.title, body=plan.body)
        number, action = plan.pull_number, "updated"
    else:
        pull = await ws.gh.pulls.open(
            repo, head=plan.branch, base=where.branch, title=plan.title, body=plan.body
        )
        number, action = pull.number, "opened"
    log.info(
        "promotion pr %s repo=%s number=%d app=%s env=%s version=%s",
        action,
        repo,
        number,
        plan.app,
        plan.environment,
        plan.promotion.to_tag,
    )
    return Outcome(plan.app, plan.environment, action, plan.promotion.reason, number)


def _skipped(skip: Skip, candidate: Candidate) -> Outcome:
    log.info(
        "no promotion app=%s env=%s version=%s: %s",
        skip.app,
        skip.environment,
        candidate.tag,
        skip.reason,
    )
    return Outcome(skip.app, skip.environment, "skipped", skip.reason)
