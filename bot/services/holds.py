"""Placing and lifting holds (see ``bot.core.promotion.holds``), and showing them on the open
promotion PRs they stop: a ``promotion-held`` label and a failing ``hold`` gate on the check."""

from __future__ import annotations

import logging

from bot.core.markup.markdown import escape_md
from bot.core.promotion.branches import parse_branch
from bot.core.promotion.holds import HOLD_LABEL, Hold, hold_body, hold_title
from bot.core.promotion.model import Request
from bot.services.replies import Answer
from bot.services.review import review_pull
from bot.services.workspace import LoadedConfig, Workspace

log = logging.getLogger("bot.services")


async def place(
    ws: Workspace,
    loaded: LoadedConfig,
    scope: tuple[str | None, str],
    request: Request,
    reason: str,
    *,
    rollback: bool = False,
) -> Answer:
    """Hold ``app`` in ``env`` (``scope``; app ``None``: every app), unless the same hold is in
    force."""
    app, env = scope
    for hold in await ws.holds(loaded):
        if (hold.app, hold.environment) == (app, env):
            return Answer(True, f"{hold.describe()} already (#{hold.number}).")
    at = ws.clock()
    hold = Hold(env, app, request.by, at, reason, rollback=rollback)
    repo = loaded.repo.full_name
    number = await ws.gh.issues.open(
        repo, title=hold_title(hold), body=hold_body(hold, url=request.url), labels=[HOLD_LABEL]
    )
    ws.forget_holds(loaded)
    log.info("hold placed repo=%s issue=%d app=%s env=%s by=%s", repo, number, app, env, request.by)
    await _regate(ws, loaded, app, env)
    lift = f"/unhold {'' if app is None else app + ' '}in {env}"
    return Answer(
        True,
        f"Held {escape_md(hold.what)}: no promotion PR is opened or updated for it until "
        f"`{escape_md(lift)}`. Recorded in {repo}#{number}.",
    )


async def lift(
    ws: Workspace, loaded: LoadedConfig, scope: tuple[str | None, str], login: str
) -> Answer:
    """Close the hold issues of exactly this scope."""
    app, env = scope
    found = [h for h in await ws.holds(loaded) if (h.app, h.environment) == (app, env)]
    what = f"{app or 'every app'} in {env}"
    if not found:
        return Answer(False, f"nothing holds {escape_md(what)}.")
    repo = loaded.repo.full_name
    for hold in found:
        if hold.number is not None:
            await ws.gh.issues.close(repo, hold.number)
    ws.forget_holds(loaded)
    log.info("hold lifted repo=%s app=%s env=%s by=%s", repo, app, env, login)
    await _regate(ws, loaded, app, env)
    return Answer(
        True,
        f"Lifted the hold on {escape_md(what)}; the next version (or the hourly reconcile) "
        "is proposed as usual.",
    )


async def _regate(ws: Workspace, loaded: LoadedConfig, app: str | None, env: str) -> None:
    """Review again the open promotion PRs the hold covers, so their label and check follow."""
    config = loaded.config
    where = await ws.location(loaded, config.environment(env))
    for branch in await ws.heads(where.repo):
        lane = parse_branch(branch)
        if lane is None or lane[1] != env or app not in (None, lane[0]):
            continue
        for pull in await ws.gh.pulls.history(where.repo, branch):
            if pull.state == "open":
                await review_pull(ws, where.repo, pull.number, base_ref=pull.base_ref)
