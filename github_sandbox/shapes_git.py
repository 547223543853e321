"""REST shapes of git objects: refs, git commits, trees, blobs, and the repos-API commit."""

from __future__ import annotations

import zlib
from typing import Any

from github_sandbox.clock import iso_time
from github_sandbox.gitcore import CommitInfo, Signature, TreeEntry
from github_sandbox.shapes import node_id, user_shape
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

UNSIGNED = {
    "verified": False,
    "reason": "unsigned",
    "signature": None,
    "payload": None,
    "verified_at": None,
}


def repo_api(sandbox: Sandbox, repo: Record) -> str:
    return f"{sandbox.urls.api}/repos/{repo['owner']}/{repo['name']}"


def repo_html(sandbox: Sandbox, repo: Record) -> str:
    return f"{sandbox.urls.html}/{repo['owner']}/{repo['name']}"


def git_user(sig: Signature) -> dict[str, Any]:
    return {"name": sig.name, "email": sig.email, "date": iso_time(sig.epoch)}


def ref_shape(sandbox: Sandbox, repo: Record, ref: str, sha: str, kind: str) -> dict[str, Any]:
    api = repo_api(sandbox, repo)
    plural = {"commit": "commits", "tag": "tags", "tree": "trees", "blob": "blobs"}[kind]
    return {
        "ref": ref,
        "node_id": node_id("Ref", zlib.crc32(f"{repo['id']}:{ref}".encode())),
        "url": f"{api}/git/{ref}",
        "object": {"type": kind, "sha": sha, "url": f"{api}/git/{plural}/{sha}"},
    }


def _parents(sandbox: Sandbox, repo: Record, commit: CommitInfo) -> list[dict[str, Any]]:
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    return [
        {"sha": p, "url": f"{api}/commits/{p}", "html_url": f"{html}/commit/{p}"}
        for p in commit.parents
    ]


def git_commit_shape(sandbox: Sandbox, repo: Record, commit: CommitInfo) -> dict[str, Any]:
    """``git-commit`` (Git Data API)."""
    api = repo_api(sandbox, repo)
    return {
        "sha": commit.sha,
        "node_id": node_id("Commit", int(commit.sha[:7], 16)),
        "url": f"{api}/git/commits/{commit.sha}",
        "html_url": f"{repo_html(sandbox, repo)}/commit/{commit.sha}",
        "author": git_user(commit.author),
        "committer": git_user(commit.committer),
        "tree": {"sha": commit.tree, "url": f"{api}/git/trees/{commit.tree}"},
        "message": commit.message,
        "parents": [
            {"sha": p["sha"], "url": f"{api}/git/commits/{p['sha']}", "html_url": p["html_url"]}
            for p in _parents(sandbox, repo, commit)
        ],
        "verification": UNSIGNED,
    }


def _account_for_email(sandbox: Sandbox, email: str) -> dict[str, Any] | None:
    for account in sandbox.store.find("account"):
        if account.get("email") == email:
            return user_shape(sandbox.urls.api, account)
    return None


def commit_shape(sandbox: Sandbox, repo: Record, commit: CommitInfo) -> dict[str, Any]:
    """``commit`` (repos API: list/get commits, compare)."""
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    return {
        "url": f"{api}/commits/{commit.sha}",
        "sha": commit.sha,
        "node_id": node_id("Commit", int(commit.sha[:7], 16)),
        "html_url": f"{html}/commit/{commit.sha}",
        "comments_url": f"{api}/commits/{commit.sha}/comments",
        "commit": {
            "url": f"{api}/git/commits/{commit.sha}",
            "author": git_user(commit.author),
            "committer": git_user(commit.committer),
            "message": commit.message,
            "comment_count": 0,
            "tree": {"sha": commit.tree, "url": f"{api}/git/trees/{commit.tree}"},
            "verification": UNSIGNED,
        },
        "author": _account_for_email(sandbox, commit.author.email),
        "committer": _account_for_email(sandbox, commit.committer.email),
        "parents": _parents(sandbox, repo, commit),
    }


def tree_shape(
    sandbox: Sandbox, repo: Record, sha: str, entries: list[TreeEntry], *, truncated: bool = False
) -> dict[str, Any]:
    api = repo_api(sandbox, repo)

    def entry(e: TreeEntry) -> dict[str, Any]:
        plural = "trees" if e.type == "tree" else "blobs"
        shaped: dict[str, Any] = {"path": e.path, "mode": e.mode, "type": e.type, "sha": e.sha}
        if e.size is not None:
            shaped["size"] = e.size
        if e.type != "commit":
            shaped["url"] = f"{api}/git/{plural}/{e.sha}"
        return shaped

    return {
        "sha": sha,
        "url": f"{api}/git/trees/{sha}",
        "tree": [entry(e) for e in entries],
        "truncated": truncated,
    }
