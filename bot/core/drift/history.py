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

# GitHub's own merge message, and the squash title the bot's PR title gives ("Promote api 1.4.0
# to prod (#12)"; see ``render_pull_title``).
_MERGED_BRANCH = re.compile(r"^Merge pull request #(\d+) from [^/\s]+/(\S+)")
_SQUASHED = re.compile(r"^Promote .+ \(#(\d+)\)$")


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
    pull = merges.get(sha)
    merged = _MERGED_BRANCH.match(message)
    if pull is None and merged is not None and parse_branch(merged.group(2)) is not None:
        pull = int(merged.group(1))
    squashed = _SQUASHED.match(message)
    if pull is None and squashed is not None:
        pull = int(squashed.group(1))
    promotion = pull is not None or (bool(bot) and author == bot)
    return Commit(sha, author, at, message, url, pull, promotion)
