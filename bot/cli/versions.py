"""``versions match`` (test versions against a constraint) and ``versions pick`` (choose a tag)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.adapters.catalog import PolicyError, load_policy
from bot.core.versions.constraints import ConstraintError, parse_constraint
from bot.core.versions.selection import TagPolicyError, pick_tag
from bot.core.versions.semver import VersionError, parse_version


def register(subparsers: Any) -> None:
    versions = subparsers.add_parser("versions", help="semver constraints and tag selection")
    commands = versions.add_subparsers(dest="versions_command", metavar="COMMAND", required=True)

    match = commands.add_parser(
        "match",
        help="check versions against a Masterminds constraint",
        description="Print VERSION<TAB>true|false|invalid per version (loose parsing, as "
        "Masterminds NewVersion). Exit 2 when the constraint is invalid.",
    )
    match.add_argument("constraint", metavar="CONSTRAINT")
    match.add_argument("versions", nargs="+", metavar="VERSION")
    match.add_argument("--prerelease", action="store_true", help="let pre-release versions match")
    match.set_defaults(func=run_match)

    pick = commands.add_parser(
        "pick",
        help="choose a tag under a policy",
        description="Print the chosen tag (tag@digest when given so); exit 1 with the reason "
        "on stderr when no tag qualifies, 2 when the policy is bad.",
    )
    pick.add_argument("--policy", required=True, metavar="NAME_OR_FILE")
    pick.add_argument("--current", default=None, metavar="TAG")
    pick.add_argument("tags", nargs="+", metavar="TAG")
    pick.set_defaults(func=run_pick)


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
