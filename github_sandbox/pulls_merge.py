"""Merging a pull request: a real commit on the base branch, the ``push`` that moves it, and
``pull_request`` closed with ``merged: true``."""

from __future__ import annotations

from typing import Any

from github_sandbox.errors import GitHubError
from github_sandbox.gitrepo import GitRepo
from github_sandbox.issues_model import find_issue, set_state
from github_sandbox.pulls_events import emit_pull_event
from github_sandbox.pulls_git import (
    MergeConflict,
    MergeRequest,
    merge_commit,
    pull_commits,
    rebase_commits,
    squash_commit,
)
from github_sandbox.pulls_model import unsettled
from github_sandbox.pushes import announce, move_ref, signature_for
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

MERGE_METHODS = {"merge": merge_commit, "squash": squash_commit, "rebase": rebase_commits}
# The repository setting that allows each method and GitHub's 405 when it is off [OA repos/get:
# allow_merge_commit, allow_squash_merge, allow_rebase_merge; OA pulls/merge: 405].
METHOD_SETTINGS = {
    "merge": ("allow_merge_commit", "Merge commits are not allowed on this repository."),
    "squash": ("allow_squash_merge", "Squash merges are not allowed on this repository."),
    "rebase": ("allow_rebase_merge", "Rebase merges are not allowed on this repository."),
}
BASE_MODIFIED = "Base branch was modified. Review and try the merge again."


def default_message(
    git: GitRepo, repo: Record, pull: Record, *, title: str, method: str, base_sha: str
) -> tuple[str, str]:
    """GitHub's default commit title and message for each merge method."""
    if method == "merge":
        return f"Merge pull request #{pull['number']} from {repo['owner']}/{pull['head']}", title
    commits = pull_commits(git, base_sha, pull["head_sha"])
    bullets = "\n\n".join(f"* {c.message}" for c in commits)
    return f"{title} (#{pull['number']})", bullets


def merge_pull(
    sandbox: Sandbox,
    repo: Record,
    pull: Record,
    actor: str,
    *,
    method: str = "merge",
    sha: str | None = None,
    commit_title: str | None = None,
    commit_message: str | None = None,
    settle: bool = True,
) -> dict[str, Any]:
    """Merge ``pull`` into its base as ``actor``; the ``pull-request-merge-result`` body.

    With ``settle`` (the REST API), a merge while GitHub still computes mergeability (right
    after the pull request opened or its head or base moved) answers 405 "Base branch was
    modified"; a person's act (the web UI) waits for the merge box instead."""
    if method not in MERGE_METHODS:
        raise GitHubError(422, f"Invalid merge_method merge_method={method}")
    if pull["state"] != "open":
        raise GitHubError(405, "Pull Request is not mergeable")
    if sha is not None and sha != pull["head_sha"]:
        raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
    setting, refusal = METHOD_SETTINGS[method]
    if not repo.get(setting, True):
        raise GitHubError(405, refusal)
    if settle and unsettled(sandbox, pull):
        raise GitHubError(405, BASE_MODIFIED)
    git = sandbox.git(repo)
    base_ref = f"refs/heads/{pull['base']}"
    base_sha = git.ref_sha(base_ref)
    if base_sha is None:
        raise GitHubError(405, "Base branch was deleted")
    issue = find_issue(sandbox, repo, pull["number"])
    title, message = default_message(
        git, repo, pull, title=issue["title"], method=method, base_sha=base_sha
    )
    request = MergeRequest(
        base_sha=base_sha,
        head_sha=pull["head_sha"],
        title=commit_title or title,
        message=message if commit_message is None else commit_message,
        merger=signature_for(sandbox, actor),
    )
    try:
        new_sha = MERGE_METHODS[method](git, request)
    except MergeConflict as err:
        raise GitHubError(405, "Pull Request is not mergeable") from err
    update = move_ref(sandbox, repo, base_ref, new_sha, force=False)
    pull = _record_merge(
        sandbox, repo, pull, issue, actor=actor, base_sha=base_sha, merge_sha=new_sha
    )
    announce(sandbox, repo, [update], actor)
    emit_pull_event(sandbox, repo, pull, "closed", actor)
    return {"sha": new_sha, "merged": True, "message": "Pull Request successfully merged"}


def _record_merge(
    sandbox: Sandbox,
    repo: Record,
    pull: Record,
    issue: Record,
    *,
    actor: str,
    base_sha: str,
    merge_sha: str,
) -> Record:
    now = sandbox.clock.iso()
    merged = {
        **pull,
        "state": "closed",
        "base_sha": base_sha,
        "merged": True,
        "merged_at": now,
        "merged_by": actor,
        "merge_commit_sha": merge_sha,
    }
    closed = {**set_state(sandbox, issue, "closed", actor, None), "merged_at": now}
    with sandbox.store.transaction():
        sandbox.store.update("issue", closed)
        return sandbox.store.update("pull", merged)
