"""Pull request operations as a given user or app bot: open, edit, close, reopen.

Routes call these after checking credentials; the admin API calls them to act as a person.
Each one writes the records and sends the ``pull_request`` events GitHub would send.
Merging lives in ``pulls_merge``.
"""

from __future__ import annotations

from typing import Any

from github_sandbox.errors import GitHubError
from github_sandbox.issues_events import changes_of
from github_sandbox.issues_model import check_body, find_issue, new_issue, set_state
from github_sandbox.pulls_events import emit_pull_event
from github_sandbox.pulls_model import base_sha_of, open_pulls, settling
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def pull_error(message: str, *, field: str | None = None) -> GitHubError:
    """GitHub's 422 for a rejected pull request: ``invalid`` on a field, else ``custom``."""
    error: dict[str, Any] = {"resource": "PullRequest"}
    error |= {"field": field, "code": "invalid"} if field else {"code": "custom"}
    return GitHubError(422, "Validation Failed", errors=[{**error, "message": message}])


def branch_name(repo: Record, spec: str) -> str:
    """``owner:branch`` or ``branch`` to a branch of this repository (no forks here)."""
    owner, sep, branch = spec.partition(":")
    if not sep:
        return spec
    if owner.lower() != repo["owner"].lower():
        raise pull_error(f"head repository not found head={spec}", field="head")
    return branch


def _check_pair(sandbox: Sandbox, repo: Record, head: str, base: str, number: int = 0) -> str:
    """The head sha, if the (head, base) pair may have an open pull request."""
    git = sandbox.git(repo)
    head_sha = git.ref_sha(f"refs/heads/{head}")
    base_sha = git.ref_sha(f"refs/heads/{base}")
    if head_sha is None:
        raise pull_error(f"head branch not found head={head}", field="head")
    if base_sha is None:
        raise pull_error(f"base branch not found base={base}", field="base")
    for other in open_pulls(sandbox, repo):
        if (other["head"], other["base"]) == (head, base) and other["number"] != number:
            raise pull_error(f"A pull request already exists for {repo['owner']}:{head}.")
    if git.is_ancestor(head_sha, base_sha):
        raise pull_error(f"No commits between {base} and {head}")
    return head_sha


def open_pull(
    sandbox: Sandbox,
    repo: Record,
    actor: str,
    *,
    title: str,
    head: str,
    base: str,
    body: str | None = None,
    draft: bool = False,
) -> Record:
    head = branch_name(repo, head)
    check_body(body, "PullRequest")
    with sandbox.git(repo).lock, sandbox.store.transaction():
        head_sha = _check_pair(sandbox, repo, head, base)
        issue = new_issue(sandbox, repo, actor, title=title, body=body, labels=[], is_pull=True)
        data = {
            "number": issue["number"],
            "repo_id": repo["id"],
            "state": "open",
            "head": head,
            "head_sha": head_sha,
            "base": base,
            "base_sha": sandbox.git(repo).ref_sha(f"refs/heads/{base}"),
            "draft": draft,
            "merged": False,
            "merged_at": None,
            "merged_by": None,
            "merge_commit_sha": None,
            **settling(sandbox),
        }
        pull = sandbox.store.insert("pull", data, repo_id=repo["id"], key=str(issue["number"]))
    emit_pull_event(sandbox, repo, pull, "opened", actor)
    return pull


def edit_pull(
    sandbox: Sandbox,
    repo: Record,
    pull: Record,
    actor: str,
    *,
    title: str | None = None,
    body: str | None = None,
    base: str | None = None,
    state: str | None = None,
) -> Record:
    """Apply the given fields; sends ``edited`` (with ``changes``) and ``closed``/``reopened``."""
    check_body(body, "PullRequest")
    issue = find_issue(sandbox, repo, pull["number"])
    edited = {
        **issue,
        "title": issue["title"] if title is None else title,
        "body": issue["body"] if body is None else body,
    }
    changes = changes_of(issue, edited, ("title", "body"))
    if base is not None and base != pull["base"]:
        _check_pair(sandbox, repo, pull["head"], base, pull["number"])
        old_sha = base_sha_of(sandbox, repo, pull)
        changes["base"] = {"ref": {"from": pull["base"]}, "sha": {"from": old_sha}}
        pull = sandbox.store.update("pull", {**pull, "base": base})
    if changes:
        edited["updated_at"] = sandbox.clock.iso()
        sandbox.store.update("issue", edited)
        emit_pull_event(sandbox, repo, pull, "edited", actor, changes=changes)
    if state is not None and state != pull["state"]:
        pull = set_pull_state(sandbox, repo, pull, state, actor)
    return pull


def set_pull_state(sandbox: Sandbox, repo: Record, pull: Record, state: str, actor: str) -> Record:
    """Close or reopen (not merge) a pull request; sends ``closed`` or ``reopened``."""
    if state not in ("open", "closed"):
        raise pull_error(f"unknown state state={state}", field="state")
    if pull["merged"]:
        raise pull_error("Cannot change the state of a merged pull request", field="state")
    issue = find_issue(sandbox, repo, pull["number"])
    if state == "open":
        _check_pair(sandbox, repo, pull["head"], pull["base"], pull["number"])
    base_sha = base_sha_of(sandbox, repo, pull)
    with sandbox.store.transaction():
        sandbox.store.update("issue", set_state(sandbox, issue, state, actor, None))
        pull = sandbox.store.update("pull", {**pull, "state": state, "base_sha": base_sha})
    emit_pull_event(sandbox, repo, pull, "closed" if state == "closed" else "reopened", actor)
    return pull
