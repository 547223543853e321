"""Reviewing a PR to an environment: its meaningful diff, drift warnings and promotion gates.

Works for the bot's promotion PRs (their hidden metadata names app, environment and version) and
for people's PRs (the images they change are matched to the config's apps). Snapshots are keyed
by paths relative to the environment's directory, so an environment compares with the one before
it file by file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.config.model import PromotionConfig
from bot.core.config.windows import active_window
from bot.core.files.images import ImageRefError, same_repository
from bot.core.markup.metadata import Meta
from bot.core.promotion.gates import GateResult, evaluate_gates, freeze_check
from bot.core.promotion.model import Promotion, Snapshot
from bot.core.review.comment import render_review_comment
from bot.core.review.diff import MeaningfulDiff, meaningful_diff
from bot.core.review.drift import drift_warnings
from bot.core.versions.selection import change_kind


@dataclass(frozen=True)
class EnvReview:
    """One environment a PR touches: before and after the PR, and the environment before it;
    ``skipped``: the files (by name in the environment) the bot did not read, and why."""

    environment: str
    before: Snapshot
    after: Snapshot
    upstream: str | None = None
    previous: Snapshot | None = None
    skipped: Mapping[str, str] = field(default_factory=dict)
    ahead: tuple[str, ...] = ()  # commits only this environment's branch has ("sha message")


def upstream_of(config: PromotionConfig, app: str | None, environment: str) -> str | None:
    """The environment a version must reach first: the policy's ``after``, else the previous."""
    if app is not None and app in config.apps:
        names = [env.name for env in config.environments_of(app)]
        if environment in names:
            return config.policy_for(app, environment).after
    names = [env.name for env in config.environments]
    index = names.index(environment)
    return names[index - 1] if index > 0 else None


def app_of_image(config: PromotionConfig, image: str) -> str | None:
    for name, app in config.apps.items():
        try:
            if same_repository(app.image, image):
                return name
        except ImageRefError:
            continue
    return None


def pr_promotions(
    config: PromotionConfig, review: EnvReview, diff: MeaningfulDiff, meta: Meta | None
) -> tuple[Promotion, ...]:
    """What the PR promotes: the metadata's version for a promotion PR, else every image whose
    tag the PR changes."""
    if meta is not None and meta.kind == "promotion-pr" and meta.app in config.apps:
        image = config.apps[meta.app].image
        return (_promotion(meta.app, review.environment, image, meta.from_ or None, meta.version),)
    found = []
    for delta in diff.images:
        if delta.new_tag is None or delta.new_tag == delta.old_tag:
            continue
        app = app_of_image(config, delta.repository) or delta.repository
        found.append(
            _promotion(app, review.environment, delta.repository, delta.old_tag, delta.new_tag)
        )
    return tuple(found)


def _promotion(app: str, env: str, image: str, old: str | None, new: str) -> Promotion:
    kind = change_kind(old, new) if old else "other"
    return Promotion(app, env, image, old, new, change_kind=kind)


def review_comment(
    config: PromotionConfig,
    review: EnvReview,
    meta: Meta | None,
    *,
    arrived_at: datetime | None,
    now: datetime,
) -> tuple[str, bool]:
    """The review comment's body, and whether it says anything (no diff and no warning: no)."""
    diff = meaningful_diff(review.before, review.after)
    promotions = pr_promotions(config, review, diff, meta)
    app = promotions[0].app if promotions else ""
    soak = (
        config.policy_for(app, review.environment).soak if _runs_in(config, app, review) else None
    )
    warnings = drift_warnings(
        promotions=promotions,
        target_before=review.before,
        target_after=review.after,
        previous_environment=review.upstream,
        previous=review.previous,
        arrived_at=arrived_at,
        soak=soak,
        now=now,
        ahead=review.ahead,
    )
    version = promotions[0].to_tag if promotions else ""
    body = render_review_comment(
        app=app,
        environment=review.environment,
        diff=diff,
        warnings=warnings,
        version=version,
        skipped=review.skipped,
    )
    return body, not (diff.empty and not warnings and not review.skipped)


def _runs_in(config: PromotionConfig, app: str, review: EnvReview) -> bool:
    if app not in config.apps:
        return False
    return any(env.name == review.environment for env in config.environments_of(app))


def promotion_gates(
    config: PromotionConfig, meta: Meta, *, upstream_since: datetime | None, now: datetime
) -> GateResult:
    """The gates on a promotion PR; ``upstream_since`` is when its version reached the upstream
    environment (``None``: it has not). A rollback goes back to a version the environment ran
    before, so only the freeze gate applies to it: the upstream and soak gates are about new
    versions."""
    policy = config.policy_for(meta.app, meta.environment)
    names = [env.name for env in config.environments_of(meta.app)]
    index = names.index(meta.environment)
    previous = names[index - 1] if index > 0 else None
    upstream = policy.after or previous
    window = active_window(policy.freeze, now)
    freeze = None if window is None else (window.reason or "a freeze window is active")
    if meta.rollback:
        check = freeze_check(meta.environment, freeze)
        return GateResult(check.passed, (check,))
    return evaluate_gates(
        environment=meta.environment,
        previous_environment=previous,
        version=meta.version,
        reached={} if upstream is None or upstream_since is None else {upstream: upstream_since},
        soak=policy.soak,
        after=policy.after,
        freeze_active=freeze,
        now=now,
    )
