"""Proposing a version: plan with the pure planner, then open or update the promotion PR.

Shared by every trigger (image pushes, git tags, merged PRs, reconciling). The environments'
files are read only as the planner asks for them, and the promotion branch's PRs only when the
branch exists (a branch that does not exist has no PRs), which keeps opening a PR within eight
calls (see ``bot.services.github_ports``). The planner parses the environments' files, so it
runs off the event loop (``asyncio.to_thread``), on files already within the bounds of
``bot.core.files.bounds``.

A plan is only as good as what it was made from: a person may merge or close the promotion PR,
or push to the base branch, while a job reads. So each plan keeps its snapshot (the base
branch's commit its files were read at, the promotion branch's head, its open PR) and, just
before the first write, the proposal reads the branch heads again (and the PR it would update)
bypassing the job's cache: if anything moved it plans again from those fresh reads, at most
``PLAN_ATTEMPTS`` times, then asks for the job to run again later (``RetryLater``). This check
costs one GET when opening a PR and two when updating one; a plan made on a stale base would
open a second PR for a version the environment already runs.

A PR merged for the candidate's version does not by itself stop a proposal: the files decide
what an environment runs, and after a rollback (or a person's edit) the same version may rightly
be proposed again; a fresh base already shows a version that was merged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
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
from bot.services.ports import RetryLater
from bot.services.workspace import LoadedConfig, Location, Workspace, pull_record

log = logging.getLogger("bot.services")

PROPOSAL_WRITES = 4
PLAN_ATTEMPTS = 3
# GitHub kept moving under every plan: a person is at work on the environment, so give the
# merges and their webhooks a moment to land before the job plans again.
MOVING_RETRY = timedelta(seconds=5)


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
    reached: frozenset[str] = frozenset()  # as ``choose`` was given it, to choose again


@dataclass(frozen=True)
class _Planned:
    """A plan and the snapshot it was made from: the base branch's commit (``base``) and the
    promotion branch's head (``head``; ``None``: the branch did not exist)."""

    where: Location
    base: Tree
    head: str | None
    plan: PromotionPlan


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
    return Choice(decision, reads[decision.environment], reached)


async def propose(
    ws: Workspace,
    loaded: LoadedConfig,
    app: str,
    candidate: Candidate,
    *,
    reached: frozenset[str] = frozenset(),
) -> Outcome:
    """Find the environment ``candidate`` goes to next and open or update its PR; when GitHub
    moved under the plan, the version may go on to the environment after (it reached this one)."""
    choice = await choose(ws, loaded, app, candidate, reached=reached)
    return await _propose(ws, loaded, choice, candidate, follow=True)


async def propose_choice(
    ws: Workspace, loaded: LoadedConfig, choice: Choice | Skip, candidate: Candidate
) -> Outcome:
    """Open or update the PR ``choice`` targets, unless a hold stops it (a rollback places
    its own hold, so only a rollback goes through one). When GitHub moved under the plan it
    plans again for that environment only: the caller checked who may promote to it."""
    return await _propose(ws, loaded, choice, candidate, follow=False)


async def _propose(
    ws: Workspace,
    loaded: LoadedConfig,
    choice: Choice | Skip,
    candidate: Candidate,
    *,
    follow: bool,
) -> Outcome:
    app = choice.app if isinstance(choice, Skip) else choice.target.app
    for _ in range(PLAN_ATTEMPTS):
        if isinstance(choice, Skip):
            return _skipped(choice, candidate)
        planned = await _plan(ws, loaded, choice, candidate)
        if isinstance(planned, Skip):
            return _skipped(planned, candidate)
        if await _unmoved(ws, planned):
            return await _apply(ws, planned)
        env = choice.target.environment
        log.info(
            "github moved while planning, planning again repo=%s app=%s env=%s version=%s",
            planned.where.repo,
            app,
            env,
            candidate.tag,
        )
        choice = await choose(ws, loaded, app, candidate, reached=choice.reached)
        if not follow and isinstance(choice, Choice) and choice.target.environment != env:
            moved = f"{env} changed while proposing {candidate.tag}"
            choice = Skip(app, env, f"{moved}; it would now go to {choice.target.environment}")
    reason = f"github kept moving while planning app={app} version={candidate.tag}"
    raise RetryLater(MOVING_RETRY, reason)


async def _plan(
    ws: Workspace, loaded: LoadedConfig, choice: Choice, candidate: Candidate
) -> _Planned | Skip:
    target = choice.target
    hold = holding(await ws.holds(loaded), target.app, target.environment)
    if hold is not None and not candidate.rollback:
        return Skip(target.app, target.environment, hold.summary())
    read = choice.read
    if read.tree is None:
        return Skip(target.app, target.environment, "its branch does not exist")
    repo = read.location.repo
    branch = branch_name(target.app, target.environment)
    head = (await ws.heads(repo)).get(branch)
    history = await _history(ws, repo, branch, target) if head is not None else PullHistory()
    plan = await asyncio.to_thread(
        plan_promotion, loaded.config, target, candidate, read.state, history, web_url=ws.gh.web_url
    )
    if isinstance(plan, Skip):
        return plan
    return _Planned(read.location, read.tree, head, plan)


async def _unmoved(ws: Workspace, planned: _Planned) -> bool:
    """Whether GitHub still holds what ``planned`` was made from, read fresh (not from the
    job's cache): the base branch at the same commit, the promotion branch at the same head
    (or still absent), and the PR to update still open (closing it moves no branch)."""
    repo, plan = planned.where.repo, planned.plan
    heads = await ws.fresh_heads(repo)
    if heads.get(planned.where.branch) != planned.base.commit_sha:
        return False
    if heads.get(plan.branch) != planned.head:
        return False
    if plan.pull_number is None:
        return True
    return (await ws.gh.pulls.get(repo, plan.pull_number)).state == "open"


async def _history(ws: Workspace, repo: str, branch: str, target: Target) -> PullHistory:
    pulls = await ws.gh.pulls.history(repo, branch)
    records = (pull_record(pull) for pull in pulls)
    return pull_history(records, app=target.app, environment=target.environment)


async def _apply(ws: Workspace, planned: _Planned) -> Outcome:
    where, plan = planned.where, planned.plan
    repo = where.repo
    action: Literal["opened", "updated"]
    spec = CommitSpec(
        base=planned.base,
        files=plan.edits,
        message=plan.commit_message,
        branch=plan.branch,
        create=planned.head is None,
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
