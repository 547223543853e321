"""Pull request records and their GitHub shapes (``pull-request-simple``, ``pull-request``, and
the webhook ``pull_request`` object, which is the full shape).

The ``pull`` record (key: the number) holds the git side: ``head``/``base`` branch names, the
``head_sha`` last seen, the ``base_sha`` frozen when the pull request closes, and the merge
facts. Title, body, state and labels live on the ``issue`` record of the same number.
"""

from __future__ import annotations

from typing import Any

from github_sandbox.errors import not_found
from github_sandbox.issues_model import comment_count, find_issue, issue_shape, person
from github_sandbox.payloads import account_record, repository_payload
from github_sandbox.pulls_git import is_mergeable, pull_files
from github_sandbox.shapes import node_id
from github_sandbox.shapes_git import repo_api, repo_html
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def find_pull(sandbox: Sandbox, repo: Record, number: int) -> Record:
    pull = sandbox.store.find_one("pull", key=str(number), repo_id=repo["id"])
    if pull is None:
        raise not_found()
    return pull


def open_pulls(sandbox: Sandbox, repo: Record) -> list[Record]:
    return [p for p in sandbox.store.find("pull", repo_id=repo["id"]) if p["state"] == "open"]


def settling(sandbox: Sandbox) -> dict[str, float]:
    """The fields that restart GitHub's background mergeability job: a pull request opened or
    whose head or base just moved has ``mergeable: null`` for ``mergeability_seconds`` [OA
    pulls/get: "If the value is null, then GitHub has started a background job to compute the
    mergeability"]."""
    return {"settles_at": sandbox.clock.now() + sandbox.mergeability_seconds}


def unsettled(sandbox: Sandbox, pull: Record) -> bool:
    """Whether the mergeability of open ``pull`` is still being computed."""
    return pull["state"] == "open" and sandbox.clock.now() < float(pull.get("settles_at") or 0)


def base_sha_of(sandbox: Sandbox, repo: Record, pull: Record) -> str:
    """The base branch tip while open; the tip it had when the pull request closed after."""
    if pull["state"] == "open":
        live = sandbox.git(repo).ref_sha(f"refs/heads/{pull['base']}")
        if live is not None:
            return live
    return str(pull["base_sha"])


def pull_shape(
    sandbox: Sandbox, repo: Record, pull: Record, *, full: bool = True, sees_private: bool = False
) -> dict[str, Any]:
    """``pull-request`` when ``full`` (single reads and webhooks), else ``pull-request-simple``;
    ``sees_private`` as in ``issue_shape``."""
    issue = find_issue(sandbox, repo, pull["number"])
    issue_part = _issue_part(sandbox, repo, issue, sees_private)
    shaped = {**_simple(sandbox, repo, pull, issue), **issue_part}
    return {**shaped, **_full_part(sandbox, repo, pull, issue)} if full else shaped


def _simple(sandbox: Sandbox, repo: Record, pull: Record, issue: Record) -> dict[str, Any]:
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    number = pull["number"]
    url, issue_url = f"{api}/pulls/{number}", f"{api}/issues/{number}"
    head_sha = pull["head_sha"]
    links = {
        "self": url,
        "html": f"{html}/pull/{number}",
        "issue": issue_url,
        "comments": f"{issue_url}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{api}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": f"{api}/statuses/{head_sha}",
    }
    return {
        "url": url,
        "id": pull["id"],
        "node_id": node_id("PullRequest", pull["id"]),
        "html_url": links["html"],
        "diff_url": f"{html}/pull/{number}.diff",
        "patch_url": f"{html}/pull/{number}.patch",
        "issue_url": issue_url,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": number,
        "merged_at": pull["merged_at"],
        "merge_commit_sha": pull["merge_commit_sha"],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(sandbox, repo, pull["head"], head_sha),
        "base": _branch(sandbox, repo, pull["base"], base_sha_of(sandbox, repo, pull)),
        "_links": {name: {"href": href} for name, href in links.items()},
        "auto_merge": None,
        "draft": pull["draft"],
    }


def _issue_part(
    sandbox: Sandbox, repo: Record, issue: Record, sees_private: bool
) -> dict[str, Any]:
    shaped = issue_shape(sandbox, repo, issue, sees_private=sees_private)
    keys = (
        "state", "locked", "title", "user", "body", "labels", "milestone", "active_lock_reason",
        "created_at", "updated_at", "closed_at", "assignee", "assignees", "author_association",
    )  # fmt: skip
    return {key: shaped[key] for key in keys}


def _full_part(sandbox: Sandbox, repo: Record, pull: Record, issue: Record) -> dict[str, Any]:
    git = sandbox.git(repo)
    base_sha = base_sha_of(sandbox, repo, pull)
    files = pull_files(git, base_sha, pull["head_sha"])
    additions = sum(f.additions for f in files)
    deletions = sum(f.deletions for f in files)
    commits = git.count_commits([f"{base_sha}..{pull['head_sha']}"])
    mergeable = (
        None
        if pull["state"] != "open" or unsettled(sandbox, pull)
        else is_mergeable(git, base_sha, pull["head_sha"])
    )
    state = {None: "unknown", True: "clean", False: "dirty"}[mergeable]
    merged_by = pull["merged_by"]
    return {
        "merged": pull["merged"],
        "mergeable": mergeable,
        "rebaseable": mergeable,
        "mergeable_state": state,
        "merged_by": person(sandbox, merged_by) if merged_by else None,
        "comments": comment_count(sandbox, repo, issue["number"]),
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": commits,
        "additions": additions,
        "deletions": deletions,
        "changed_files": len(files),
    }


def _branch(sandbox: Sandbox, repo: Record, branch: str, sha: str) -> dict[str, Any]:
    owner = account_record(sandbox, repo["owner"])
    return {
        "label": f"{repo['owner']}:{branch}",
        "ref": branch,
        "sha": sha,
        "user": person(sandbox, owner["login"]),
        "repo": repository_payload(sandbox, repo),
    }
