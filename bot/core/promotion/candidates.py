"""Which versions are on offer: from an event, from a source's tag list, from closed PRs.

- An image push offers, to every app built from that image, the newest version seen of the
  image that the app's first environment allows: whatever order pushes arrive in, the same one.
- A git tag (or release) of an app's ``source`` repository offers the image tag its
  ``tag_pattern``/``image_tag`` maps it to, for one environment when the pattern says so.
- Reconciling offers, per app, the newest tag its first environment's policy allows and each
  environment's version to the environment after it: what webhooks would have offered had none
  been lost.
- Closed promotion PRs that were not merged are the versions people declined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from bot.core.config.model import PromotionConfig
from bot.core.files.images import ImageRefError, same_repository
from bot.core.files.yamlnodes import YamlEditError
from bot.core.markup.metadata import Meta
from bot.core.promotion.envfiles import EnvState, running_tags
from bot.core.promotion.planner import Candidate, OpenPull, PullHistory
from bot.core.versions.selection import TagPolicyError, pick_tag


@dataclass(frozen=True)
class PullRecord:
    """A PR of a promotion branch, reduced to what planning needs; ``meta`` only when trusted
    (the PR was written by the bot)."""

    number: int
    open: bool
    merged: bool
    meta: Meta | None


def apps_for_image(config: PromotionConfig, image: str) -> tuple[str, ...]:
    """The apps whose ``image`` is the repository ``image``, however either is written."""
    found = []
    for name, app in config.apps.items():
        try:
            if same_repository(app.image, image):
                found.append(name)
        except ImageRefError:
            continue
    return tuple(found)


def newest_seen(
    config: PromotionConfig,
    app: str,
    seen: Mapping[str, str | None],
    first: EnvState,
    *,
    image: str,
) -> Candidate | None:
    """The newest of the ``seen`` tags (-> digest) of ``image`` that the app's first
    environment (``first``: its files) allows, or ``None`` when it allows none."""
    tag = _newest_allowed(config, app, first, tuple(seen))
    if tag is None:
        return None
    return Candidate(tag, seen[tag], source=f"image push {image}:{tag}")


def candidates_for_git_tag(
    config: PromotionConfig, repo: str, git_tag: str, *, source: str
) -> tuple[tuple[str, Candidate], ...]:
    """``(app, candidate)`` for every app built from ``repo`` whose ``tag_pattern`` matches."""
    found = []
    for name, app in config.apps.items():
        if app.source is None or app.source.lower() != repo.lower():
            continue
        match = app.match_git_tag(git_tag)
        if match is not None:
            candidate = Candidate(match.image_tag, environment=match.environment, source=source)
            found.append((name, candidate))
    return tuple(found)


def offered_image_tags(
    config: PromotionConfig, app: str, git_tags: Iterable[str]
) -> tuple[str, ...]:
    """The image tags a source repository's git tags stand for (environment-targeted tags left
    out: they name their environment themselves)."""
    spec = config.apps[app]
    matches = (spec.match_git_tag(tag) for tag in git_tags)
    return tuple(
        dict.fromkeys(m.image_tag for m in matches if m is not None and m.environment is None)
    )


def reconcile_candidates(
    config: PromotionConfig,
    app: str,
    states: Mapping[str, EnvState],
    offered: Sequence[str],
) -> tuple[Candidate, ...]:
    """What the app's environments are missing: the newest offered tag the first environment
    allows, then each environment's version for the environment after it."""
    image = config.apps[app].image
    names = [env.name for env in config.environments_of(app) if env.name in states]
    current = {name: _current(states[name], image) for name in names}
    found: list[Candidate] = []
    newest = _newest_allowed(config, app, states[names[0]], offered) if names else None
    if newest is not None:
        found.append(Candidate(newest, source="reconcile: newest version offered"))
    for upstream, downstream in pairwise(names):
        tag = current[upstream]
        if tag is not None and tag != current[downstream]:
            found.append(Candidate(tag, source=f"reconcile: {upstream} runs {tag}"))
    return tuple(
        {c.tag: c for c in reversed(found)}[tag] for tag in dict.fromkeys(c.tag for c in found)
    )


def _newest_allowed(
    config: PromotionConfig, app: str, state: EnvState, offered: Sequence[str]
) -> str | None:
    """The newest of ``offered`` that the policy of ``state``'s environment allows, given the
    version it runs (``None`` for an unusable policy: the planner says why)."""
    policy = config.policy_for(app, state.name)
    try:
        return pick_tag(policy, offered, current=_current(state, config.apps[app].image)).tag
    except TagPolicyError:
        return None


def _current(state: EnvState, image: str) -> str | None:
    try:
        tags = running_tags(state, image)
    except YamlEditError:
        return None
    return tags[0] if tags else None


def pull_history(records: Iterable[PullRecord], *, app: str, environment: str) -> PullHistory:
    """The open PR and the declined versions among a promotion branch's PRs (newest first).

    A version counts as declined when a bot PR proposing it was closed without merging, and so
    does every version such a PR lists as declined (GitHub keeps the record even when older PRs
    scroll out of view).
    """
    open_pull: OpenPull | None = None
    declined: list[str] = []
    for record in records:
        meta = record.meta
        if meta is None or meta.kind != "promotion-pr":
            continue
        if meta.app != app or meta.environment != environment:
            continue
        declined += meta.declined
        if record.open and open_pull is None:
            open_pull = OpenPull(record.number, meta.version, meta.superseded)
        elif not record.open and not record.merged:
            declined.append(meta.version)
    return PullHistory(open=open_pull, declined=tuple(dict.fromkeys(declined)))
