"""Automerge against GitHub's merge rules: which merge method to use, and the comment that says
why a promotion PR was not merged.

A repository allows some of ``merge``, ``squash`` and ``rebase`` (``allow_merge_commit``,
``allow_squash_merge``, ``allow_rebase_merge``); the bot prefers a squash (one commit per
promotion on the environment's branch), then a merge commit, then a rebase.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from bot.core.markup.markdown import escape_md
from bot.core.markup.metadata import Meta, embed

MergeMethod = Literal["merge", "squash", "rebase"]
PREFERRED_METHODS: tuple[MergeMethod, ...] = ("squash", "merge", "rebase")


def pick_merge_method(allowed: Collection[str]) -> MergeMethod | None:
    """The preferred method among ``allowed``; ``None`` when the repository allows none."""
    return next((m for m in PREFERRED_METHODS if m in allowed), None)


def merge_refused_comment(meta: Meta, head_sha: str, reason: str) -> str:
    """The comment saying why automerge did not merge the promotion PR at ``head_sha``; its
    hidden metadata names the environment and the sha, so there is one comment per head."""
    marker = Meta(
        "merge-refused",
        app=meta.app,
        environment=meta.environment,
        version=meta.version,
        sha=head_sha,
        reason=reason[:300],
    )
    return (
        f"**Automerge did not merge this pull request** (head `{head_sha[:7]}`): "
        f"{escape_md(reason)}.\n\n"
        f"The policy for {escape_md(meta.environment)} says automerge and its gates pass; "
        "merge it by hand, or fix the cause and push to the branch to try again.\n\n"
        f"{embed(marker)}"
    )
