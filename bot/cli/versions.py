"""``versions match`` (test versions against a constraint) and ``versions pick`` (choose a tag)."""

from __future__ import annotations

import argparse
import sys

from bot.adapters.catalog import PolicyError, load_policy
from bot.core.files.images import valid_digest, valid_tag
from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.policy import TagPolicy
from bot.core.versions.selection import TagPolicyError, pick_tag
from bot.core.versions.semver import VersionError, parse_version
from bot.core.versions.tagschemes import compile_plan, variant_of

__all__ = ["run_match", "run_pick"]  # run through bot.cli.commands.RUNS


def run_match(args: argparse.Namespace) -> int:
    try:
        constraint = parse_constraint(args.constraint)
    except ConstraintError as err:
        print(f"promotion-bot versions match: {err}", file=sys.stderr)
        return 2
    for text in args.versions:
        try:
            version = parse_version(text, loose=True)
        except VersionError:
            print(f"{text}\tinvalid")
            continue
        verdict = constraint.check(version, include_prerelease=args.prerelease)
        print(f"{text}\t{str(verdict).lower()}")
    return 0


def run_pick(args: argparse.Namespace) -> int:
    unreadable = _unreadable(args.current, args.tags)
    if unreadable:
        print(f"promotion-bot versions pick: {unreadable}", file=sys.stderr)
        return 2
    try:
        policy = load_policy(args.policy)
        pick = pick_tag(policy, args.tags, args.current)
        skipped = skipped_prereleases(policy, args.tags)
    except (PolicyError, TagPolicyError) as err:
        print(f"promotion-bot versions pick: policy={args.policy}: {err}", file=sys.stderr)
        return 2
    if pick.tag is None:
        print(f"promotion-bot versions pick: {_reason(pick.reason, skipped)}", file=sys.stderr)
        return 1
    print(f"{pick.tag}@{pick.digest}" if pick.digest else pick.tag)
    return 0


def _unreadable(current: str | None, tags: list[str]) -> str | None:
    """Why ``--current`` or a tag cannot be read as a tag (``tag`` or ``tag@digest``), or None.
    A tag outside the policy's scheme is readable: the pick says what it does with it."""
    for what, text in (("--current", current), *(("TAG", tag) for tag in tags)):
        if text is None:
            continue
        tag, at, digest = text.partition("@")
        if not valid_tag(tag) or (at and not valid_digest(digest)):
            return f"{what} is not a Docker tag (or tag@sha256:<64 hex digits>) {what}={text!r}"
    return None


def skipped_prereleases(policy: TagPolicy, tags: list[str]) -> list[str]:
    """The semver tags left out as pre-releases because the policy does not accept them."""
    if policy.prerelease or policy.scheme != "semver":
        return []
    plan = compile_plan(policy)
    skipped = []
    for value, ref in plan.values(tags).items():
        try:
            version = parse_version(value)
        except VersionError:
            continue
        if version.is_prerelease and (not plan.variant or variant_of(version) is None):
            skipped.append(ref.tag)
    return skipped


def _reason(reason: str, skipped: list[str]) -> str:
    """The pick's reason, saying "pre-release" where the tags left out were pre-releases."""
    quoted = reason.replace(" is a prerelease version ", " is a pre-release version ")
    if quoted != reason or not skipped:
        return quoted
    them = "it is a pre-release" if len(skipped) == 1 else f"{len(skipped)} are pre-releases"
    shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
    return f"{reason}; {them} ({shown}), which the policy does not accept (prerelease: false)"
