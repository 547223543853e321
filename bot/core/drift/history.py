"""What GitHub remembers, read for an audit: the promotion lanes from the bot's PRs, and which
commits came through a promotion PR (the others are changes made straight to an environment).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.drift.model import Commit, Lane
from bot.core.markup.metadata import Meta
from bot.core.promotion.branches import parse_branch

# GitHub's own merge message, and the squash titles the bot's PR titles give ("Promote api 1.4.0
# to prod (#12)", "Roll back api in prod to 1.3.0 (#13)"; see ``render_pull_title``).
_MERGED = re.compile(r"Merge pull request #(\d+) from [^/\s]+/(\S+)")
_SQUASHED = re.compile(r"(?:Promote .+ to .+|Roll back .+ in .+ to .+) \(#(\d+)\)")
_NUMBERED = re.compile(r"\(#(\d+)\)$")


@dataclass(frozen=True)
class PromotionPull:
    """A promotion PR the bot opened: its hidden metadata and how it ended."""

    number: int
    meta: Meta
    open: bool
    merged_at: datetime | None
    merge_sha: str | None = None


def lanes(pulls: Iterable[PromotionPull]) -> dict[tuple[str, str], Lane]:
    """Per (app, environment): the version its open PR proposes, the versions declined (closed
    without merging) and when each merged version arrived."""
    proposed: dict[tuple[str, str], tuple[str, int]] = {}
    declined: dict[tuple[str, str], list[str]] = {}
    arrived: dict[tuple[str, str], dict[str, datetime]] = {}
    for pull in sorted(pulls, key=lambda p: p.number):
        key = (pull.meta.app, pull.meta.environment)
        version = pull.meta.version
        if pull.open:
            proposed[key] = (version, pull.number)
        elif pull.merged_at is not None:
            arrived.setdefault(key, {})[version] = pull.merged_at
        else:
            declined.setdefault(key, []).append(version)
    keys = set(proposed) | set(declined) | set(arrived)
    return {
        key: Lane(
            proposed=proposed[key][0] if key in proposed else None,
            pull=proposed[key][1] if key in proposed else None,
            declined=tuple(declined.get(key, ())),
            arrived=arrived.get(key, {}),
        )
        for key in keys
    }


def commit_of(
    sha: str,
    author: str,
    at: datetime | None,
    message: str,
    *,
    url: str = "",
    merges: Mapping[str, int],
    bot: str,
) -> Commit:
    """A commit, marked as a promotion's when it came through one of the bot's PRs: it is the
    merge (or squash) commit of a merged promotion PR (``merges``: merge sha -> PR), the bot
    wrote it, or its message is GitHub's merge of a ``promotion/`` branch or the bot's squashed
    PR title."""
    named, promoted = promotion_pull(message)
    pull = merges.get(sha, named)
    promotion = sha in merges or promoted or (bool(bot) and author == bot)
    return Commit(sha, author, at, message, url, pull, promotion)


def promotion_pull(subject: str) -> tuple[int | None, bool]:
    """``(pull, promotion)`` from a commit's first line: GitHub's merge commit of a PR from one
    of the bot's ``promotion/<app>/<env>`` branches, or a squash titled as the bot titles its
    PRs (``Promote api 1.4.0 to prod (#12)``); any other PR's number, not a promotion."""
    merged = _MERGED.match(subject)
    if merged is not None:
        return int(merged[1]), parse_branch(merged[2]) is not None
    squashed = _SQUASHED.fullmatch(subject)
    if squashed is not None:
        return int(squashed[1]), True
    numbered = _NUMBERED.search(subject)
    return (int(numbered[1]) if numbered else None), False
