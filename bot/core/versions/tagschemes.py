"""How a tag policy reads one tag: the compiled policy (``Plan``) and a tag's ``Rating``.

``bot.core.versions.selection`` builds on these; the module docstring there states the rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion
from packaging.version import Version as Pep440Version

from bot.core.versions.constraints import Constraint, ConstraintError, parse_constraint
from bot.core.versions.policy import Level, Scheme, TagPolicy
from bot.core.versions.semver import Version, VersionError, parse_version
from bot.core.versions.tagfilters import (
    DEFAULT_EXCLUDE,
    TagPatternError,
    TagRef,
    UserRegex,
    compile_regex,
    filter_tags,
    match_filter,
    split_digest,
)

_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PRERELEASE_WORDS = frozenset(
    {"alpha", "a", "beta", "b", "rc", "c", "cr", "pre", "preview", "dev", "devel", "snapshot"}
    | {"canary", "nightly", "next", "ea", "m", "milestone", "test", "unstable", "insiders"}
)


class TagPolicyError(ValueError):
    """A tag policy that cannot be applied (bad constraint, pattern or field combination)."""


@dataclass(frozen=True)
class _Descending:
    """A string key that orders backwards, for ``order: desc``."""

    text: str

    def __lt__(self, other: _Descending) -> bool:
        return other.text < self.text

    def __gt__(self, other: _Descending) -> bool:
        return other.text > self.text


@dataclass(frozen=True)
class Rating:
    """One tag under a policy: ``key`` orders it (higher is preferred), ``allowed`` keeps it.

    ``admits_current`` says whether the constraint admits the tag as a current version
    (pre-releases included); ``core`` is major.minor.patch for ``level``.
    """

    key: Any
    core: tuple[int, int, int] | None = None
    variant: str | None = None
    allowed: bool = True
    admits_current: bool = True


@dataclass(frozen=True)
class Plan:
    """A ``TagPolicy`` with its constraint, patterns and match compiled once."""

    scheme: Scheme
    level: Level | None
    prerelease: bool
    variant: bool
    descending: bool
    constraint_text: str | None
    constraint: Constraint | None
    specifiers: SpecifierSet | None
    exclude: tuple[UserRegex, ...]
    match: Callable[[str], bool] | None
    pattern: str
    extract: str

    def values(self, entries: Iterable[str]) -> dict[str, TagRef]:
        """The value to rate (after ``pattern``/``extract``) -> the tag it came from."""
        refs = [ref for entry in entries if (ref := split_digest(entry)) is not None]
        refs = [r for r in refs if not any(x.search(r.tag) is not None for x in self.exclude)]
        by_tag = {r.tag: r for r in refs if self.match is None or self.match(r.tag)}
        return {v: by_tag[t] for v, t in filter_tags(by_tag, self.pattern, self.extract).items()}

    def noun(self, variant: str | None) -> Callable[[int], str]:
        """``noun(n)``: how the reason names n candidate tags, e.g. "tags matching '~1.4'"."""
        kinds = {"semver": "semver tag", "pep440": "PEP 440 tag", "numerical": "numeric tag"}
        base = "tag" if self.constraint_text else kinds.get(self.scheme, "tag")
        suffix = f" with suffix '-{variant}'" if variant else ""
        suffix += f" matching '{self.constraint_text}'" if self.constraint_text else ""
        return lambda n: base + ("" if n == 1 else "s") + suffix

    @property
    def superlative(self) -> str:
        if self.scheme == "alphabetical":
            return "alphabetically first" if self.descending else "alphabetically last"
        return "lowest" if self.descending else "highest"


def compile_plan(policy: TagPolicy) -> Plan:
    """Check and compile ``policy``; raises ``TagPolicyError`` saying which field is wrong."""
    ordered = policy.scheme in ("semver", "pep440")
    if not ordered and (policy.constraint is not None or policy.level is not None):
        raise TagPolicyError(
            f"checking tag policy failed scheme={policy.scheme}: constraint and level need "
            "scheme semver or pep440"
        )
    if policy.extract and not policy.pattern:
        raise TagPolicyError(f"checking tag policy failed extract={policy.extract!r}: no pattern")
    try:
        return Plan(
            scheme=policy.scheme,
            level=policy.level,
            prerelease=policy.prerelease,
            variant=policy.variant and policy.scheme == "semver",
            descending=policy.order == "desc" and not ordered,
            constraint_text=policy.constraint,
            constraint=_constraint(policy),
            specifiers=_specifiers(policy),
            exclude=tuple(compile_regex(p, "exclude") for p in _exclude(policy)),
            match=match_filter(policy.match) if policy.match else None,
            pattern=_checked_pattern(policy.pattern or ""),
            extract=policy.extract or "",
        )
    except (ConstraintError, TagPatternError) as err:
        raise TagPolicyError(f"checking tag policy failed: {err}") from err


def _exclude(policy: TagPolicy) -> tuple[str, ...]:
    return DEFAULT_EXCLUDE if policy.exclude is None else policy.exclude


def _checked_pattern(pattern: str) -> str:
    if pattern:
        compile_regex(pattern)
    return pattern


def _constraint(policy: TagPolicy) -> Constraint | None:
    if policy.scheme != "semver" or policy.constraint is None:
        return None
    if not policy.constraint.strip():
        # Flux rejects an empty range too; no constraint at all is how to accept any version.
        raise TagPolicyError("checking tag policy failed constraint='': leave it out instead")
    return parse_constraint(policy.constraint)


def _specifiers(policy: TagPolicy) -> SpecifierSet | None:
    if policy.scheme != "pep440" or policy.constraint is None:
        return None
    try:
        return SpecifierSet(policy.constraint)
    except InvalidSpecifier as err:
        raise TagPolicyError(
            f"checking tag policy failed constraint={policy.constraint!r}: not a PEP 440 "
            f"specifier set ({err})"
        ) from err


def variant_of(version: Version) -> str | None:
    """The variant suffix of ``version`` (``alpine`` in ``1.2.3-alpine``), None for none."""
    if not version.prerelease or not version.prerelease[0][0].isalpha():
        return None
    word = version.prerelease[0].rstrip("0123456789-").lower()
    return None if word in _PRERELEASE_WORDS else ".".join(version.prerelease)


def rate(plan: Plan, value: str) -> Rating | None:
    """Read ``value`` under the plan's scheme; None when it is not a value of that scheme."""
    if plan.scheme == "semver":
        return _rate_semver(plan, value)
    if plan.scheme == "pep440":
        return _rate_pep440(plan, value)
    if plan.scheme == "numerical":
        number = float(value) if _NUMBER_RE.fullmatch(value) else math.nan
        if not math.isfinite(number):
            return None
        return Rating(-number if plan.descending else number)
    return Rating(_Descending(value) if plan.descending else value)


def _rate_semver(plan: Plan, value: str) -> Rating | None:
    try:
        version = parse_version(value)
    except VersionError:
        return None
    variant = variant_of(version) if plan.variant else None
    if variant is not None:
        version = Version(*version.core, (), version.build)
    if plan.constraint is None:
        allowed, admits = plan.prerelease or not version.is_prerelease, True
    else:
        allowed = plan.constraint.check(version, include_prerelease=plan.prerelease)
        admits = plan.constraint.check(version, include_prerelease=True)
    return Rating(version.precedence(), version.core, variant, allowed, admits)


def _rate_pep440(plan: Plan, value: str) -> Rating | None:
    try:
        version = Pep440Version(value)
    except InvalidVersion:
        return None
    major, minor, patch = (*version.release, 0, 0)[:3]
    if plan.specifiers is None:
        allowed, admits = plan.prerelease or not version.is_prerelease, True
    else:
        # PEP 440: a specifier that names a pre-release admits pre-releases.
        pre = plan.prerelease or bool(plan.specifiers.prereleases)
        allowed = plan.specifiers.contains(version, prereleases=pre)
        admits = plan.specifiers.contains(version, prereleases=True)
    return Rating(version, (major, minor, patch), None, allowed, admits)
