"""Choosing a tag under a ``TagPolicy``: the Flux ImagePolicy and Keel rules as one pure function.

Order of work: drop entries that cannot be tags (over 128 characters, bad ``@digest``), the
exclusion list (default: cosign ``.sig`` tags), Keel ``match``, Flux ``pattern``/``extract``; then
rate each remaining value under ``scheme`` and keep the allowed ones; relative to ``current``
apply ``level`` and keep only newer tags; the best wins and its original spelling is returned.

Rules a successor should keep:

- semver tags are read strictly with an optional ``v`` (Flux); tags that do not parse are skipped.
  Pre-releases need ``prerelease`` or a constraint group that names one (Masterminds rule).
- numerical fails the whole evaluation on one value that is not a decimal number (Flux); NaN and
  infinities are not numbers here.
- A variant suffix (``variant``, semver only) is a pre-release part whose first identifier starts
  with a letter and is not a pre-release word (alpha, beta, rc, dev, snapshot, ... with optional
  trailing digits): ``1.2.3-alpine``, ``1.2.3-alpine3.19``, ``1.2.3-debian-12`` carry variants;
  ``1.2.3-rc.1``, ``1.2.3-beta2``, ``1.2.3-0`` are pre-releases. Only tags with exactly the
  current tag's variant (none when there is no current tag) are candidates, and the version
  without the suffix is what constraints and ordering see.
- The result never goes below ``current`` while the constraint admits ``current`` (read with
  pre-releases included); once it does not, the highest allowed tag wins and ``level`` is not
  applied. ``level`` needs a current tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from packaging.version import InvalidVersion
from packaging.version import Version as Pep440Version

from bot.core.versions.policy import TagPolicy
from bot.core.versions.semver import VersionError, parse_version
from bot.core.versions.tagschemes import Plan, Rating, TagPolicyError, compile_plan, rate

__all__ = ["ChangeKind", "Pick", "TagPolicyError", "change_kind", "is_newer", "pick_tag"]

ChangeKind = Literal["major", "minor", "patch", "prerelease", "downgrade", "other"]
_NOT_A_NUMBER = (
    "tag {tag!r} is not a number; the numerical scheme needs every tag to be one "
    "(narrow the tags with pattern)"
)


@dataclass(frozen=True)
class Pick:
    """The chosen tag (None when nothing qualifies) and why, for a PR body or a comment.

    ``candidates`` are the tags the winner was chosen from, best first; ``digest`` is the
    winner's digest when the tag was given as ``tag@sha256:...``.
    """

    tag: str | None
    reason: str
    candidates: tuple[str, ...] = ()
    digest: str | None = None


@dataclass(frozen=True)
class _Rated:
    tag: str
    digest: str | None
    rating: Rating


def pick_tag(policy: TagPolicy, tags: Iterable[str], current: str | None = None) -> Pick:
    """Choose among ``tags`` under ``policy``; raises ``TagPolicyError`` for a bad policy."""
    plan = compile_plan(policy)
    given = list(tags)
    rated: list[_Rated] = []
    for value, ref in plan.values(given).items():
        rating = rate(plan, value)
        if rating is None and plan.scheme == "numerical":
            return Pick(None, _NOT_A_NUMBER.format(tag=ref.tag))
        if rating is not None:
            rated.append(_Rated(ref.tag, ref.digest, rating))
    shown = current.partition("@")[0] if current is not None else None
    return _choose(plan, rated, len(given), _current_rating(plan, current), shown)


def _current_rating(plan: Plan, current: str | None) -> Rating | None:
    if current is None:
        return None
    values = plan.values([current])
    return rate(plan, next(iter(values))) if values else None


def _choose(
    plan: Plan, rated: list[_Rated], total: int, cur: Rating | None, current: str | None
) -> Pick:
    variant = cur.variant if cur is not None else None
    pool = [r for r in rated if r.rating.allowed and r.rating.variant == variant]
    noun = plan.noun(variant)
    if not pool:
        why = _refused_by_constraint(plan, rated)
        return Pick(None, f"no {noun(1)} among {_count(total, 'tag')} given{why}")
    anchored = cur is not None and cur.admits_current
    note, scope = _notes(plan, cur, current, anchored), ""
    if anchored and cur is not None:
        pool = [r for r in pool if r.rating.key > cur.key and _within_level(plan, cur, r.rating)]
        scope = f" newer than {current}" + (f" within a {plan.level} update" if plan.level else "")
        if not pool:
            return Pick(None, f"no {noun(1)} is{scope}{note}")
    pool.sort(key=lambda r: (r.rating.key, r.tag), reverse=True)
    best = pool[0]
    reason = f"{best.tag} is the {plan.superlative} of {len(pool)} {noun(len(pool))}{scope}{note}"
    return Pick(best.tag, reason, tuple(r.tag for r in pool), best.digest)


def _refused_by_constraint(plan: Plan, rated: list[_Rated]) -> str:
    """For a single tag the constraint refused, which of its rules did, in Masterminds' words
    (``"2.0.0" is greater than or equal to 2``): what a person asking for it needs to read."""
    if plan.constraint is None or len(rated) != 1 or rated[0].rating.allowed:
        return ""
    try:
        reasons = plan.constraint.reasons(rated[0].tag.removeprefix("v"))
    except VersionError:
        return ""
    return f": {reasons[0]}" if reasons else ""


def _notes(plan: Plan, cur: Rating | None, current: str | None, anchored: bool) -> str:
    if current is None:
        return "; level needs a current tag and was not applied" if plan.level else ""
    if cur is None:
        return f"; current {current!r} is outside this policy, so any allowed tag may replace it"
    if not anchored:
        return (
            f"; current {current} does not satisfy '{plan.constraint_text}', "
            "so any allowed tag may replace it"
        )
    return ""


def _within_level(plan: Plan, cur: Rating, candidate: Rating) -> bool:
    if plan.level is None or plan.level == "major" or cur.core is None or candidate.core is None:
        return True
    same = 1 if plan.level == "minor" else 2
    return candidate.core[:same] == cur.core[:same]


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def is_newer(policy: TagPolicy, candidate: str, than: str) -> bool:
    """Whether ``candidate`` orders above ``than`` under the policy's scheme (and variant)."""
    plan = compile_plan(policy)
    mine, theirs = _current_rating(plan, candidate), _current_rating(plan, than)
    if mine is None or theirs is None or mine.variant != theirs.variant:
        return False
    newer: bool = mine.key > theirs.key
    return newer


def change_kind(old: str, new: str) -> ChangeKind:
    """What kind of change ``old`` -> ``new`` is, for PR titles and bodies.

    Both are read as semver (loosely, so ``1.2`` and ``v1.2.3`` count), else as PEP 440; other
    tags, and no change at all, give ``other``. A ``@digest`` suffix is ignored.
    """
    before, after = old.partition("@")[0], new.partition("@")[0]
    try:
        a, b = parse_version(before, loose=True), parse_version(after, loose=True)
        return _kind(a.core, b.core, a.compare(b))
    except VersionError:
        pass
    try:
        p, q = Pep440Version(before), Pep440Version(after)
    except InvalidVersion:
        return "other"
    return _kind(_release(p), _release(q), (p > q) - (p < q))


def _release(version: Pep440Version) -> tuple[int, int, int]:
    major, minor, patch = (*version.release, 0, 0)[:3]
    return (major, minor, patch)


def _kind(before: tuple[int, int, int], after: tuple[int, int, int], order: int) -> ChangeKind:
    if order > 0:
        return "downgrade"
    if before[0] != after[0]:
        return "major"
    if before[1] != after[1]:
        return "minor"
    if before[2] != after[2]:
        return "patch"
    return "prerelease" if order < 0 else "other"
