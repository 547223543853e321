"""A promotion PR was closed: merged opens the next environment's PR; closed unmerged declines.

GitHub stays the source of truth for declines: the closed PR keeps its hidden metadata (the
version it proposed), and ``pull_history`` reads closed unmerged PRs of the promotion branch as
declined versions. The bot adds a ``promotion-declined`` label so people see it too, and never
deletes the branch, so the record is found from the branch name alone.
"""

from __future__ import annotations

import logging

from bot.core.inputs.events import PullClosed
from bot.core.markup.metadata import Meta, extract
from bot.core.promotion.branches import parse_branch
from bot.core.promotion.planner import Candidate
from bot.services.proposals import Outcome, propose
from bot.services.workspace import LoadedConfig, Workspace

log = logging.getLogger("bot.services")

DECLINED_LABEL = "promotion-declined"


async def handle_pull_closed(event: PullClosed, ws: Workspace) -> list[Outcome]:
    """Plan the next environment after a merge; label a declined promotion."""
    parsed = parse_branch(event.head_ref)
    if parsed is None:
        return []
    pull = await ws.gh.pulls.get(event.repo, event.number)
    meta = extract(pull.body) if pull.by_bot else None
    if meta is None or meta.kind != "promotion-pr" or (meta.app, meta.environment) != parsed:
        log.info(
            "ignoring closed pr not written by the bot repo=%s number=%d", event.repo, pull.number
        )
        return []
    if not pull.merged:
        await ws.gh.pulls.add_labels(event.repo, event.number, [DECLINED_LABEL])
        log.info(
            "promotion declined repo=%s number=%d app=%s env=%s version=%s",
            event.repo,
            event.number,
            meta.app,
            meta.environment,
            meta.version,
        )
        return []
    outcomes = []
    for loaded in await _configs_for(ws, event.repo, meta):
        outcomes.append(await _next_environment(ws, loaded, meta, event.number))
    return outcomes


async def _configs_for(ws: Workspace, repo: str, meta: Meta) -> list[LoadedConfig]:
    """The configs in which ``meta``'s environment of ``meta``'s app lives in ``repo``."""
    found = []
    for loaded in await ws.configs_of_installation():
        config = loaded.config
        if meta.app not in config.apps:
            continue
        envs = {env.name: env for env in config.environments_of(meta.app)}
        env = envs.get(meta.environment)
        if env is not None and (env.repo or loaded.repo.full_name).lower() == repo.lower():
            found.append(loaded)
    return found


async def _next_environment(
    ws: Workspace, loaded: LoadedConfig, meta: Meta, number: int
) -> Outcome:
    names = [env.name for env in loaded.config.environments_of(meta.app)]
    # The merge put the version into this environment; those before it had it first.
    reached = frozenset(names[: names.index(meta.environment) + 1])
    candidate = Candidate(meta.version, meta.digest or None, source=f"#{number} merged")
    return await propose(ws, loaded, meta.app, candidate, reached=reached)
