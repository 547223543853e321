"""Commands from comments and check-run buttons: ``/promote``, ``/rollback``, ``/hold``,
``/unhold``, ``/drift`` and ``/help``, carried out through the same use cases as automation.

Every command is checked against what GitHub says now (``bot.core.promotion.access``), answered
in words and acknowledged with reactions: ``eyes`` when taken, ``rocket`` when done, ``confused``
when refused. A comment the bot already answered (``rocket`` or ``confused`` from its account) is
not carried out again, so a redelivery or a retry after a crash does nothing twice; comments by
bots (this one included) and edits trigger nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core.inputs.actions import command_of_action
from bot.core.inputs.commands import (
    Command,
    Drift,
    Help,
    Hold,
    Ignore,
    Promote,
    Reply,
    Rollback,
    Unhold,
    parse_comment,
)
from bot.core.inputs.events import CheckActionRequested, CommentCreated
from bot.core.markup.markdown import escape_md
from bot.core.promotion.access import Access, approvers_of, refusal, teams_to_ask
from bot.core.promotion.branches import parse_branch
from bot.core.promotion.envfiles import running_tags
from bot.core.promotion.model import Request
from bot.core.promotion.planner import Candidate, Skip
from bot.core.review.pull import upstream_of
from bot.services import drift_report, holds, rollbacks
from bot.services.proposals import choose, propose_choice
from bot.services.replies import Answer, Refused, answer, done, help_text, lane_of
from bot.services.review import review_pull
from bot.services.workspace import LoadedConfig, Workspace

log = logging.getLogger("bot.services")


@dataclass(frozen=True)
class Asked:
    """Who asked, and where: a comment (``comment_id`` and its link) or a button on a PR."""

    repo: str
    number: int
    is_pull: bool
    login: str
    comment_id: int | None = None
    url: str = ""


async def handle_comment_created(event: CommentCreated, ws: Workspace) -> None:
    """Carry out the command in a new comment, if it holds one for this bot."""
    if event.author_is_bot or event.author == ws.gh.bot_login:
        return
    parsed = parse_comment(event.body)
    if isinstance(parsed, Ignore):
        return
    loaded = await config_at(ws, event.repo)
    if loaded is None:
        return  # not an environment repository: other bots' commands are none of our business
    asked = Asked(
        event.repo, event.issue_number, event.is_pull, event.author, event.comment_id, event.url
    )
    done = await ws.gh.comments.bot_reactions(event.repo, event.comment_id)
    if done & {"rocket", "confused"}:
        log.info("command answered already repo=%s comment=%d", event.repo, event.comment_id)
        return
    if isinstance(parsed, Reply):
        await answer(ws, asked, Answer(False, parsed.message))
        return
    await carry_out(ws, loaded, parsed.command, asked)


async def handle_check_action(event: CheckActionRequested, ws: Workspace) -> None:
    """A button on the promotion-policy check run: the bare command on its PR, as the clicker."""
    command = command_of_action(event.identifier)
    if command is None or not event.requester:
        return
    loaded = await config_at(ws, event.repo)
    if loaded is None:
        return
    number = event.pull_number or await _promotion_pull_at(ws, event.repo, event.head_sha)
    if number is None:
        log.info("button of no promotion pr repo=%s sha=%s", event.repo, event.head_sha)
        return
    asked = Asked(event.repo, number, True, event.requester)
    await carry_out(ws, loaded, command, asked)


async def _promotion_pull_at(ws: Workspace, repo: str, sha: str) -> int | None:
    """The promotion PR whose head is ``sha``. A check run's event lists only open PRs, so a
    button on a merged PR's check (``rollback`` after the merge) names none; its promotion
    branch still points at ``sha`` until the lane's next version (the bot deletes no branch)."""
    for branch, head in (await ws.heads(repo)).items():
        if head != sha or parse_branch(branch) is None:
            continue
        for pull in await ws.gh.pulls.history(repo, branch):
            if pull.head_sha == sha:
                return pull.number
    return None


async def config_at(ws: Workspace, repo: str) -> LoadedConfig | None:
    """The config that holds ``repo``'s environments, or lives in it."""
    for loaded in await ws.configs_of_installation():
        if loaded.repo.full_name.lower() == repo.lower():
            return loaded
        for env in loaded.config.environments:
            if (await ws.location(loaded, env)).repo.lower() == repo.lower():
                return loaded
    return None


async def carry_out(ws: Workspace, loaded: LoadedConfig, command: Command, asked: Asked) -> Answer:
    """Check who asked, then do it and say what happened (the answer is returned too)."""
    if asked.comment_id is not None:
        await ws.gh.comments.react(asked.repo, asked.comment_id, "eyes")
    lane = await lane_of(ws, asked) if asked.is_pull else None
    try:
        result = await _run(ws, loaded, command, asked, lane)
    except Refused as refused:
        result = Answer(False, escape_md(refused.reason, limit=1_000))
    await answer(ws, asked, result)
    return result


async def _audit_now(ws: Workspace, loaded: LoadedConfig, asked: Asked) -> Answer:
    """``/drift`` on an issue of the config's repository: the drift audit, now."""
    if asked.repo.lower() != loaded.repo.full_name.lower():
        raise Refused(
            f"/drift on an issue audits the environments of {loaded.repo.full_name}: "
            "comment there, or on a pull request into an environment"
        )
    if not loaded.config.drift.report:
        raise Refused("the drift report is off for this repository (drift: {report: false})")
    done, number = await drift_report.publish(ws, loaded)
    if number is None:
        return Answer(True, "Audited the environments now: no drift.")
    return Answer(True, f"Audited the environments now: the drift report #{number} is {done}.")


async def _run(
    ws: Workspace,
    loaded: LoadedConfig,
    command: Command,
    asked: Asked,
    lane: tuple[str, str] | None,
) -> Answer:
    if isinstance(command, Help):
        return Answer(True, help_text(loaded.config))
    if isinstance(command, Drift):
        await _allow(ws, loaded, asked, "drift", (None, None))
        if not asked.is_pull:
            return await _audit_now(ws, loaded, asked)
        if not await review_pull(ws, asked.repo, asked.number):
            raise Refused("/drift works on an open pull request into an environment")
        return Answer(True, "Recomputed the review comment and the promotion-policy check.")
    if isinstance(command, Promote):
        return await _promote(ws, loaded, command, asked, lane)
    if isinstance(command, Rollback):
        rolled = _lane(loaded, command.app, command.environment, lane, "rollback")
        await _allow(ws, loaded, asked, "rollback", rolled)
        return await rollbacks.roll_back(ws, loaded, rolled, command.version, _request(ws, asked))
    if isinstance(command, Hold):
        scope = _scope(loaded, command, lane, "hold")
        await _allow(ws, loaded, asked, "hold", scope)
        return await holds.place(ws, loaded, scope, _request(ws, asked), command.reason or "")
    scope = _scope(loaded, command, lane, "unhold")
    await _allow(ws, loaded, asked, "unhold", scope)
    return await holds.lift(ws, loaded, scope, asked.login)


async def _promote(
    ws: Workspace,
    loaded: LoadedConfig,
    command: Promote,
    asked: Asked,
    lane: tuple[str, str] | None,
) -> Answer:
    app = _app(loaded, command.app, lane, "promote")
    env = command.environment or (lane[1] if lane and lane[0] == app else None)
    if env is not None:
        _check_env(loaded, app, env)
    await _allow(ws, loaded, asked, "promote", (app, env))  # write access before any read
    version = command.version
    if version is None:
        if env is None:
            raise Refused(f"name a version or an environment: /promote {app} VERSION to ENV")
        version = await _upstream_version(ws, loaded, app, env)
    candidate = Candidate(
        version,
        environment=env,
        source=f"/promote by @{asked.login}",
        request=_request(ws, asked),
        named=command.version is not None,
    )
    choice = await choose(ws, loaded, app, candidate)
    if isinstance(choice, Skip):
        raise Refused(choice.reason)
    if env is None:  # the approvers of the environment it turned out to go to
        await _allow(ws, loaded, asked, "promote", (app, choice.target.environment))
    outcome = await propose_choice(ws, loaded, choice, candidate)
    if outcome.action == "skipped":
        raise Refused(outcome.reason)
    log.info("promote command app=%s env=%s by=%s", app, outcome.environment, asked.login)
    return done(outcome)


async def _upstream_version(ws: Workspace, loaded: LoadedConfig, app: str, env: str) -> str:
    upstream = upstream_of(loaded.config, app, env)
    if upstream is None:
        raise Refused(f"{env} is the first environment of {app}: name the version to promote")
    _, _, state = await ws.env_state(loaded, app, upstream)
    tags = running_tags(state, loaded.config.apps[app].image)
    if not tags:
        raise Refused(f"{upstream} runs no version of {app} to promote to {env}")
    return tags[0]


async def _allow(
    ws: Workspace,
    loaded: LoadedConfig,
    asked: Asked,
    command: str,
    scope: tuple[str | None, str | None],
) -> None:
    """Raise ``Refused`` naming the rule unless ``asked.login`` may run ``command`` in the
    ``(app, environment)`` of ``scope`` (no app: the approvers of every app there count)."""
    app, env = scope
    role, permission = await ws.role(asked.repo, asked.login)
    approvers = approvers_of(loaded.config, app, env)
    teams: dict[str, bool] = {}
    if role in {"write", "maintain", "admin"} or permission in {"write", "admin"}:
        for team in teams_to_ask(approvers, asked.login):
            org, _, slug = team.partition("/")
            teams[team] = await ws.gh.people.team_member(org, slug, asked.login)
    access = Access(asked.login, role, permission, teams)
    reason = refusal(access, command=command, repo=asked.repo, environment=env, approvers=approvers)
    if reason is not None:
        raise Refused(reason)


def _request(ws: Workspace, asked: Asked) -> Request:
    return Request(asked.login, ws.clock().isoformat(timespec="seconds"), asked.url)


def _app(loaded: LoadedConfig, app: str | None, lane: tuple[str, str] | None, word: str) -> str:
    apps = sorted(loaded.config.apps)
    chosen = app or (lane[0] if lane else None) or (apps[0] if len(apps) == 1 else None)
    if chosen is None:
        raise Refused(f"name the app: /{word} APP ... (apps here: {', '.join(apps)})")
    if chosen not in loaded.config.apps:
        raise Refused(f"no app named {chosen} here (apps: {', '.join(apps)})")
    return chosen


def _check_env(loaded: LoadedConfig, app: str, env: str) -> None:
    names = [e.name for e in loaded.config.environments_of(app)]
    if env not in names:
        raise Refused(f"{app} has no environment named {env} (it has {', '.join(names)})")


def _lane(
    loaded: LoadedConfig,
    app: str | None,
    env: str | None,
    lane: tuple[str, str] | None,
    word: str,
) -> tuple[str, str]:
    chosen = _app(loaded, app, lane, word)
    env = env or (lane[1] if lane and lane[0] == chosen else None)
    if env is None:
        raise Refused(f"name the environment: /{word} {chosen} in ENV")
    _check_env(loaded, chosen, env)
    return chosen, env


def _scope(
    loaded: LoadedConfig, command: Hold | Unhold, lane: tuple[str, str] | None, word: str
) -> tuple[str | None, str]:
    """``(app, env)`` of a hold: a lane, or ``(None, env)`` for a whole environment."""
    env = command.environment
    if command.whole_environment and env is not None:
        if env not in {e.name for e in loaded.config.environments}:
            raise Refused(f"no environment named {env} here")
        return None, env
    if command.app is None and lane is None:
        raise Refused(f"on a promotion PR, /{word}; elsewhere /{word} APP in ENV or in ENV")
    return _lane(loaded, command.app, env, lane, word)
