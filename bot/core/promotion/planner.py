"""Planning a promotion: which environment a version goes to next, and the PR that takes it there.

Planning is two pure steps so the caller reads no more of GitHub than it must:

1. ``choose_target`` walks the app's environments in promotion order and returns the first one
   that does not run the version yet, provided its upstream (``after``, by default the previous
   environment) runs it and its policy allows it. When it needs an environment's files it says
   so (``NeedState``) and the caller asks again with them; environments the caller already knows
   run the version (a just-merged promotion PR says so) are passed in ``reached`` and never read.
2. ``plan_promotion`` turns that target into a ``PromotionPlan``: the edited files, the title,
   body and commit message, the branch, and whether to open a PR or update the open one in
   place. It declines to plan (``Skip``, with a reason) when the version was declined in that
   environment, is already proposed, is older than the open PR's, or the policy waits for a
   ``/promote`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.core.config.model import App, PromotionConfig
from bot.core.config.policy import Policy
from bot.core.files.yamledit import Change
from bot.core.files.yamlnodes import YamlEditError
from bot.core.promotion.branches import branch_name
from bot.core.promotion.envfiles import EnvState, running_tags, set_image_in
from bot.core.promotion.model import Promotion, Request
from bot.core.promotion.render import (
    render_commit_message,
    render_promotion_body,
    render_pull_title,
)
from bot.core.promotion.sourcetags import source_tag_prefix
from bot.core.versions.selection import TagPolicyError, change_kind, is_newer, pick_tag


@dataclass(frozen=True)
class Candidate:
    """A version offered for an app; ``environment`` set when it targets one environment only."""

    tag: str
    digest: str | None = None
    environment: str | None = None
    source: str = ""  # what offered it, for reasons: "image push", "git tag v1.2.3", ...
    request: Request | None = None  # a person's command asked for it: lifts ``auto: false``
    named: bool = False  # the person named this version (``override`` policies take it as is)
    rollback: bool = False  # back to an earlier version: the policy's order does not apply


@dataclass(frozen=True)
class OpenPull:
    """The open promotion PR of (app, environment), read from its hidden metadata."""

    number: int
    version: str
    superseded: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullHistory:
    """What GitHub remembers about one promotion branch: its open PR and declined versions."""

    open: OpenPull | None = None
    declined: tuple[str, ...] = ()


@dataclass(frozen=True)
class NeedState:
    """``choose_target`` needs this environment's files to decide."""

    environment: str


@dataclass(frozen=True)
class Skip:
    """No PR, and why (rendered into logs, comments and reconcile reports)."""

    app: str
    environment: str | None
    reason: str


@dataclass(frozen=True)
class Target:
    """The environment a version should go to next."""

    app: str
    environment: str
    from_tag: str | None
    reason: str


@dataclass(frozen=True)
class PromotionPlan:
    """Everything needed to open or update one promotion PR."""

    action: Literal["open", "update"]
    promotion: Promotion
    edits: Mapping[str, str]  # repository path -> new text
    changes: tuple[Change, ...]
    title: str
    body: str
    commit_message: str
    branch: str
    pull_number: int | None = None
    declined: tuple[str, ...] = field(default=())

    @property
    def app(self) -> str:
        return self.promotion.app

    @property
    def environment(self) -> str:
        return self.promotion.environment


def policy_name(policy: Policy) -> str:
    return policy.use or "inline"


def choose_target(
    config: PromotionConfig,
    app: str,
    candidate: Candidate,
    states: Mapping[str, EnvState],
    *,
    reached: frozenset[str] = frozenset(),
) -> Target | Skip | NeedState:
    """The first environment ``candidate`` should be promoted to, or why none, or what to read."""
    spec = config.apps[app]
    names = [env.name for env in config.environments_of(app)]
    if candidate.environment is not None and candidate.environment not in names:
        reason = f"{candidate.tag} targets {candidate.environment}, which {app} does not use"
        return Skip(app, candidate.environment, reason)
    if candidate.environment is not None:
        names = [candidate.environment]  # a tag such as prod-v1.2.3 names its environment
    having = set(reached)
    for name in names:
        if name in reached:
            continue
        if name not in states:
            return NeedState(name)
        try:
            tags = running_tags(states[name], spec.image)
        except YamlEditError as err:
            return Skip(app, name, f"cannot read the files of {name}: {err}")
        if not tags:
            reason = f"no file of {name} references {spec.image}{states[name].skipped_note()}"
            return Skip(app, name, reason)
        if tags == (candidate.tag,):
            having.add(name)
            continue
        return _allowed(config, spec, name, candidate, current=tags[0], having=having)
    where = candidate.environment or "every environment"
    return Skip(app, candidate.environment, f"{candidate.tag} already runs in {where}")


def _allowed(
    config: PromotionConfig,
    app: App,
    environment: str,
    candidate: Candidate,
    *,
    current: str,
    having: set[str],
) -> Target | Skip:
    policy = config.policy_for(app.name, environment)
    if candidate.rollback:
        return Target(app.name, environment, current, f"rollback to {candidate.tag} requested")
    if candidate.request is not None and candidate.named and policy.override:
        reason = f"policy {policy_name(policy)} allows an override; @{candidate.request.by} asked"
        return Target(app.name, environment, current, reason)
    upstream = policy.after
    if candidate.environment is None and upstream is not None and upstream not in having:
        reason = f"{candidate.tag} has not reached {upstream} yet, which comes before {environment}"
        return Skip(app.name, environment, reason)
    try:
        pick = pick_tag(policy, [candidate.tag], current=current)
    except TagPolicyError as err:
        return Skip(app.name, environment, f"policy {policy_name(policy)} is unusable: {err}")
    if pick.tag != candidate.tag:
        reason = f"policy {policy_name(policy)} for {environment} refuses {candidate.tag}: "
        return Skip(app.name, environment, reason + pick.reason)
    return Target(app.name, environment, current, pick.reason)


def plan_promotion(
    config: PromotionConfig,
    target: Target,
    candidate: Candidate,
    state: EnvState,
    history: PullHistory,
    *,
    web_url: str | None = None,
    requested: bool = False,
) -> PromotionPlan | Skip:
    """The PR that takes ``candidate`` into ``target``; ``requested`` when a person asked for it
    (a ``/promote`` command), which lifts ``auto: false``."""
    app, env = target.app, target.environment
    policy = config.policy_for(app, env)
    requested = requested or candidate.request is not None
    skip = _skip_reason(policy, candidate, env, history, requested=requested)
    if skip:
        return Skip(app, env, skip)
    image = config.apps[app].image
    try:
        edits, changes = _edit(state, image, candidate)
    except YamlEditError as err:
        return Skip(app, env, f"cannot set {image} to {candidate.tag} in {env}: {err}")
    if not changes:
        return Skip(app, env, f"nothing to change: {env} already runs {candidate.tag}")
    if state.skipped:  # the PR body says which files it left alone, and why
        target = Target(app, env, target.from_tag, target.reason + state.skipped_note())
    return _plan(
        config,
        target,
        candidate,
        history,
        policy=policy,
        edits=edits,
        changes=changes,
        web_url=web_url,
    )


def _skip_reason(
    policy: Policy, candidate: Candidate, env: str, history: PullHistory, *, requested: bool
) -> str | None:
    open_pull = history.open
    tag = candidate.tag
    if not policy.auto and not requested:
        return f"policy {policy_name(policy)} for {env} opens PRs on a /promote command only"
    overridden = candidate.named and candidate.request is not None and policy.override
    if candidate.rollback or overridden:  # replaces whatever the lane's PR proposes
        if open_pull is not None and open_pull.version == tag:
            return f"{tag} is already proposed for {env} in #{open_pull.number}"
        return None
    if tag in history.declined:
        return f"{tag} was declined for {env}; waiting for a newer version"
    if open_pull is not None and open_pull.version == tag:
        return f"{tag} is already proposed for {env} in #{open_pull.number}"
    if open_pull is not None and is_newer(policy, open_pull.version, tag):
        return f"#{open_pull.number} already proposes {open_pull.version}, newer than {tag}"
    return None


def _edit(
    state: EnvState, image: str, candidate: Candidate
) -> tuple[dict[str, str], tuple[Change, ...]]:
    edits: dict[str, str] = {}
    changes: list[Change] = []
    for path in sorted(state.files):
        result = set_image_in(state, path, image=image, tag=candidate.tag, digest=candidate.digest)
        if result.changes and result.text != state.files[path]:
            edits[path] = result.text
            changes += result.changes
    return edits, tuple(changes)


def _plan(
    config: PromotionConfig,
    target: Target,
    candidate: Candidate,
    history: PullHistory,
    *,
    policy: Policy,
    edits: dict[str, str],
    changes: tuple[Change, ...],
    web_url: str | None,
) -> PromotionPlan:
    spec = config.apps[target.app]
    open_pull = history.open
    superseded: tuple[str, ...] = ()
    if open_pull is not None:
        superseded = tuple(dict.fromkeys((*open_pull.superseded, open_pull.version)))
    promotion = Promotion(
        app=target.app,
        environment=target.environment,
        image=spec.image,
        from_tag=target.from_tag,
        to_tag=candidate.tag,
        to_digest=candidate.digest,
        change_kind=change_kind(target.from_tag, candidate.tag) if target.from_tag else "other",
        policy_name=policy_name(policy),
        reason=target.reason,
        source_repo=spec.source,
        superseded=superseded,
        request=candidate.request,
        rollback=candidate.rollback,
    )
    promotions = [promotion]
    return PromotionPlan(
        action="open" if open_pull is None else "update",
        promotion=promotion,
        edits=edits,
        changes=changes,
        title=render_pull_title(promotions),
        body=render_promotion_body(
            promotions,
            changes=changes,
            web_url=web_url,
            tag_prefix=source_tag_prefix(spec, candidate.tag),
            declined=history.declined,
        ),
        commit_message=render_commit_message(promotions, changes),
        branch=branch_name(target.app, target.environment),
        pull_number=None if open_pull is None else open_pull.number,
        declined=history.declined,
    )
