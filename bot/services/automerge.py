"""Automerge: merge a promotion PR whose policy says ``automerge`` once its gates pass, within
GitHub's merge rules, and say on the PR why when it cannot.

GitHub computes ``mergeable`` in the background: ``None`` right after a PR opens or its head or
base moves, and a merge in that moment answers 405 "Base branch was modified". Both are
transient: the job waits (``RetryLater``) and runs the review again. The merge method is one
the repository allows (``core.promotion.merging``). Anything else that stops the merge (the
repository allows no method, GitHub refuses the method, conflicts, branch protection) is said
once per head commit in a comment found again by its hidden metadata; a new head gets a new
verdict, and nothing retries on its own.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.markup.metadata import Meta, extract
from bot.core.promotion.merging import merge_refused_comment, pick_merge_method
from bot.services.github_ports import Pull
from bot.services.ports import RetryLater
from bot.services.workspace import Workspace

log = logging.getLogger("bot.services")

# GitHub's mergeability job usually ends within seconds.
MERGE_RETRY = timedelta(seconds=5)


async def automerge(ws: Workspace, repo: str, pull: Pull, meta: Meta) -> bool:
    """Merge ``pull`` at its head; ``True`` when merged. Raises ``RetryLater`` while GitHub is
    still computing whether it can merge."""
    where = f"repo={repo} number={pull.number} sha={pull.head_sha}"
    if pull.mergeable is None:
        raise RetryLater(MERGE_RETRY, f"GitHub is computing mergeability {where}")
    if pull.mergeable is False:
        await _say_why(ws, repo, pull, meta, "it conflicts with its base branch")
        return False
    method = pick_merge_method(await ws.gh.pulls.merge_methods(repo))
    if method is None:
        await _say_why(ws, repo, pull, meta, "the repository allows no merge method")
        return False
    result = await ws.gh.pulls.merge(repo, pull.number, head_sha=pull.head_sha, method=method)
    log.info(
        "automerge %s method=%s merged=%s refusal=%s", where, method, result.merged, result.refusal
    )
    if result.merged or result.refusal == "head_moved":  # a new head gets its own review
        return result.merged
    if result.refusal == "base_modified":
        raise RetryLater(MERGE_RETRY, f"GitHub answered {result.message!r} {where}")
    await _say_why(ws, repo, pull, meta, f"GitHub refused a {method} merge: {result.message}")
    return False


async def _say_why(ws: Workspace, repo: str, pull: Pull, meta: Meta, reason: str) -> None:
    """One comment per head sha: edited when the reason changed, never posted twice."""
    body = merge_refused_comment(meta, pull.head_sha, reason)
    for comment in await ws.gh.comments.list(repo, pull.number):
        found = extract(comment.body) if comment.by_bot else None
        if found is not None and found.kind == "merge-refused" and found.sha == pull.head_sha:
            if comment.body != body:
                await ws.gh.comments.edit(repo, comment.id, body)
            return
    await ws.gh.comments.create(repo, pull.number, body)
