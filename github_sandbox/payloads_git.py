"""Payloads of ``push``, ``create`` and ``release`` events, shaped like GitHub's."""

from __future__ import annotations

from typing import Any

from github_sandbox.clock import epoch_of, iso_time
from github_sandbox.gitcore import CommitInfo, RefUpdate
from github_sandbox.payloads import base_payload
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

# GitHub lists at most 20 commits in a push payload.
_MAX_PUSH_COMMITS = 20


def push_payload(sandbox: Sandbox, repo: Record, update: RefUpdate, pusher: str) -> dict[str, Any]:
    base = base_payload(sandbox, repo, pusher)
    html = base["repository"]["html_url"]
    # Push payloads carry epoch seconds for these two repository dates, as GitHub does.
    base["repository"] |= {
        "created_at": epoch_of(repo["created_at"]),
        "pushed_at": int(sandbox.clock.now()),
        "stargazers": 0,
    }
    commits = _pushed_commits(sandbox, repo, update)
    git = sandbox.git(repo)
    head = None if update.deleted else git.commit(update.after)
    changes = git.changed_paths([c.sha for c in commits])
    shaped = [_push_commit(html, c, changes.get(c.sha, ([], [], []))) for c in commits]
    head_shape = None
    if head is not None:
        head_shape = next((s for s in shaped if s["id"] == head.sha), None) or _push_commit(
            html, head, git.changed_paths([head.sha]).get(head.sha, ([], [], []))
        )
    compare = (
        f"{html}/commit/{update.after[:12]}"
        if update.created
        else f"{html}/compare/{update.before[:12]}...{update.after[:12]}"
    )
    email = sandbox.store.find_one("account", key=pusher.lower()) or {}
    return {
        "ref": update.ref,
        "before": update.before,
        "after": update.after,
        "created": update.created,
        "deleted": update.deleted,
        "forced": update.forced,
        "base_ref": None,
        "compare": compare,
        "commits": shaped,
        "head_commit": head_shape,
        "pusher": {"name": pusher, "email": email.get("email")},
        **base,
    }


def _pushed_commits(sandbox: Sandbox, repo: Record, update: RefUpdate) -> list[CommitInfo]:
    if update.deleted or update.ref.startswith("refs/tags/"):
        return []
    git = sandbox.git(repo)
    if update.created:
        others = [sha for name, sha, _ in git.refs("refs/heads/") if name != update.ref]
        revs = [update.after, *(f"^{sha}" for sha in others)]
    else:
        revs = [f"{update.before}..{update.after}"]
    return list(reversed(git.log(revs, max_count=_MAX_PUSH_COMMITS)))


def _push_commit(
    html: str, commit: CommitInfo, changes: tuple[list[str], list[str], list[str]]
) -> dict[str, Any]:
    added, removed, modified = changes

    def person(sig: Any) -> dict[str, Any]:
        return {"name": sig.name, "email": sig.email, "username": sig.name}

    return {
        "id": commit.sha,
        "tree_id": commit.tree,
        "distinct": True,
        "message": commit.message,
        "timestamp": iso_time(commit.committer.epoch),
        "url": f"{html}/commit/{commit.sha}",
        "author": person(commit.author),
        "committer": person(commit.committer),
        "added": added,
        "removed": removed,
        "modified": modified,
    }


def create_payload(
    sandbox: Sandbox, repo: Record, ref: str, ref_type: str, pusher: str
) -> dict[str, Any]:
    return {
        "ref": ref,
        "ref_type": ref_type,
        "master_branch": repo["default_branch"],
        "description": repo.get("description"),
        "pusher_type": "user",
        **base_payload(sandbox, repo, pusher),
    }


def release_payload(
    sandbox: Sandbox, repo: Record, release: dict[str, Any], action: str, sender: str
) -> dict[str, Any]:
    """``release`` event; ``release`` is the REST release object."""
    return {"action": action, "release": release, **base_payload(sandbox, repo, sender)}
