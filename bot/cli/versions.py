"""``versions match`` (test versions against a constraint) and ``versions pick`` (choose a tag)."""

from __future__ import annotations

import argparse
import sys

from bot.adapters.catalog import PolicyError, load_policy
from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.selection import TagPolicyError, pick_tag
from bot.core.versions.semver import VersionError, parse_version

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
    try:
        pick = pick_tag(load_policy(args.policy), args.tags, args.current)
    except (PolicyError, TagPolicyError) as err:
        print(f"promotion-bot versions pick: policy={args.policy}: {err}", file=sys.stderr)
        return 2
    if pick.tag is None:
        print(f"promotion-bot versions pick: {pick.reason}", file=sys.stderr)
        return 1
    print(f"{pick.tag}@{pick.digest}" if pick.digest else pick.tag)
    return 0
