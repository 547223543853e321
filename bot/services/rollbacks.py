"""``/rollback``: a PR back to the version before the current one, which holds the lane."""

from __future__ import annotations

from bot.core.markup.markdown import escape_md
from bot.core.promotion.branches import branch_name
from bot.core.promotion.envfiles import running_tags
from bot.core.promotion.model import Request
from bot.core.promotion.planner import Candidate, Skip
from bot.services import holds
from bot.services.proposals import choose, propose_choice
from bot.services.replies import Answer, Refused, done
from bot.services.workspace import LoadedConfig, Workspace, pull_record


async def roll_back(
    ws: Workspace,
    loaded: LoadedConfig,
    lane: tuple[str, str],
    version: str | None,
    request: Request,
) -> Answer:
    """Open (or update) the lane's PR back to ``version`` or the previous one, then hold it."""
    app, env = lane
    where, _, state = await ws.env_state(loaded, app, env)
    current = next(iter(running_tags(state, loaded.config.apps[app].image)), None)
    if current is None:
        raise Refused(f"{env} runs no version of {app}")
    target = version or await previous_version(ws, where.repo, app, env, current)
    if target is None:
        raise Refused(
            f"no earlier promotion of {app} in {env} was merged; name the version: "
            f"/rollback {app} to VERSION in {env}"
        )
    candidate = Candidate(
        target,
        environment=env,
        source=f"/rollback by @{request.by}",
        request=request,
        rollback=True,
    )
    choice = await choose(ws, loaded, app, candidate)
    outcome = await propose_choice(ws, loaded, choice, candidate)
    if isinstance(choice, Skip) or outcome.action == "skipped":
        raise Refused(outcome.reason)
    reason = f"rolled back from {current} to {target}"
    await holds.place(ws, loaded, (app, env), request, reason, rollback=True)
    message = done(outcome).message
    return Answer(
        True,
        f"{message} {escape_md(app)} in {escape_md(env)} is held so {escape_md(current)} is not "
        f"proposed again; `/unhold {escape_md(app)} in {escape_md(env)}` when it is fixed.",
    )


async def previous_version(
    ws: Workspace, repo: str, app: str, env: str, current: str
) -> str | None:
    """The version ``env`` ran before ``current``: where the merged promotion PR that brought
    ``current`` came from, else the newest merged promotion of another version."""
    merged = [
        r.meta
        for r in map(pull_record, await ws.gh.pulls.history(repo, branch_name(app, env)))
        if r.merged and r.meta is not None
    ]
    for meta in merged:
        if meta.version == current and meta.from_ and meta.from_ != current:
            return meta.from_
    return next((m.version for m in merged if m.version != current), None)
