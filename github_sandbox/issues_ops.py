"""Issue, label and comment operations as a given user or app bot, with their webhooks.

Pull requests are issues too: closing one or labelling one through these sends the
``pull_request`` event GitHub sends for pull requests, not ``issues``.
"""

from __future__ import annotations

from github_sandbox.errors import GitHubError, not_found
from github_sandbox.issues_events import changes_of, emit_comment_event, emit_issue_event
from github_sandbox.issues_model import (
    REACTIONS,
    app_of_actor,
    check_body,
    ensure_labels,
    find_issue,
    label_shape,
    new_issue,
    set_state,
)
from github_sandbox.pulls_events import emit_pull_event
from github_sandbox.pulls_model import find_pull
from github_sandbox.pulls_ops import set_pull_state
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def open_issue(
    sandbox: Sandbox, repo: Record, actor: str, *, title: str, body: str | None, labels: list[str]
) -> Record:
    issue = new_issue(sandbox, repo, actor, title=title, body=body, labels=labels, is_pull=False)
    emit_issue_event(sandbox, repo, issue, "opened", actor)
    for label in ensure_labels(sandbox, repo, issue["labels"]):
        shaped = label_shape(sandbox, repo, label)
        emit_issue_event(sandbox, repo, issue, "labeled", actor, label=shaped)
    return issue


def edit_issue(
    sandbox: Sandbox,
    repo: Record,
    issue: Record,
    *,
    actor: str,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
    state_reason: str | None = None,
) -> Record:
    """Apply the given fields; ``edited`` for title/body, then ``closed``/``reopened``."""
    check_body(body, "Issue")
    edited = {
        **issue,
        "title": issue["title"] if title is None else title,
        "body": issue["body"] if body is None else body,
    }
    changes = changes_of(issue, edited, ("title", "body"))
    if changes:
        edited = sandbox.store.update("issue", {**edited, "updated_at": sandbox.clock.iso()})
        if issue["is_pull"]:
            pull = find_pull(sandbox, repo, issue["number"])
            emit_pull_event(sandbox, repo, pull, "edited", actor, changes=changes)
        else:
            emit_issue_event(sandbox, repo, edited, "edited", actor, changes=changes)
    if state is None or state == edited["state"]:
        return edited
    if issue["is_pull"]:
        set_pull_state(sandbox, repo, find_pull(sandbox, repo, issue["number"]), state, actor)
        return find_issue(sandbox, repo, issue["number"])
    changed = sandbox.store.update("issue", set_state(sandbox, edited, state, actor, state_reason))
    emit_issue_event(sandbox, repo, changed, "closed" if state == "closed" else "reopened", actor)
    return changed


def _label_event(
    sandbox: Sandbox, repo: Record, issue: Record, action: str, *, label: Record, actor: str
) -> None:
    shaped = label_shape(sandbox, repo, label)
    if issue["is_pull"]:
        pull = find_pull(sandbox, repo, issue["number"])
        emit_pull_event(sandbox, repo, pull, action, actor, label=shaped)
    else:
        emit_issue_event(sandbox, repo, issue, action, actor, label=shaped)


def add_labels(
    sandbox: Sandbox, repo: Record, issue: Record, actor: str, names: list[str]
) -> Record:
    """Add labels (created if new); ``labeled`` for each one the issue did not have."""
    current = {name.lower() for name in issue["labels"]}
    added = [lb for lb in ensure_labels(sandbox, repo, names) if lb["name"].lower() not in current]
    if not added:
        return issue
    labelled = {**issue, "labels": [*issue["labels"], *(lb["name"] for lb in added)]}
    labelled = sandbox.store.update("issue", {**labelled, "updated_at": sandbox.clock.iso()})
    for label in added:
        _label_event(sandbox, repo, labelled, "labeled", label=label, actor=actor)
    return labelled


def set_labels(
    sandbox: Sandbox, repo: Record, issue: Record, actor: str, names: list[str]
) -> Record:
    """Replace the issue's labels with ``names`` (``[]`` clears them), as ``PATCH issues/{n}``
    with ``labels`` and ``PUT issues/{n}/labels`` do: ``unlabeled`` for each one dropped,
    ``labeled`` for each one new."""
    wanted = {name.lower() for name in names}
    for name in [n for n in issue["labels"] if n.lower() not in wanted]:
        issue = remove_label(sandbox, repo, issue, actor, name)
    return add_labels(sandbox, repo, issue, actor, names)


def remove_label(sandbox: Sandbox, repo: Record, issue: Record, actor: str, name: str) -> Record:
    kept = [n for n in issue["labels"] if n.lower() != name.lower()]
    if len(kept) == len(issue["labels"]):
        raise GitHubError(404, "Label does not exist")
    label = sandbox.store.find_one("label", key=name.lower(), repo_id=repo["id"])
    changed = sandbox.store.update("issue", {**issue, "labels": kept})
    if label is not None:
        _label_event(sandbox, repo, changed, "unlabeled", label=label, actor=actor)
    return changed


def add_comment(sandbox: Sandbox, repo: Record, issue: Record, actor: str, body: str) -> Record:
    check_body(body, "IssueComment")
    now = sandbox.clock.iso()
    data = {
        "repo_id": repo["id"],
        "issue_number": issue["number"],
        "is_pull": issue["is_pull"],
        "body": body,
        "user": actor,
        "app_id": app_of_actor(sandbox, actor),
        "created_at": now,
        "updated_at": now,
    }
    comment = sandbox.store.insert("comment", data, repo_id=repo["id"], key=str(issue["number"]))
    emit_comment_event(sandbox, repo, issue, comment, action="created", sender=actor)
    return comment


def edit_comment(sandbox: Sandbox, repo: Record, comment: Record, actor: str, body: str) -> Record:
    check_body(body, "IssueComment")
    edited = {**comment, "body": body, "updated_at": sandbox.clock.iso()}
    sandbox.store.update("comment", edited)
    issue = find_issue(sandbox, repo, comment["issue_number"])
    changes = {"body": {"from": comment["body"]}}
    emit_comment_event(sandbox, repo, issue, edited, action="edited", sender=actor, changes=changes)
    return edited


def delete_comment(sandbox: Sandbox, repo: Record, comment: Record, actor: str) -> None:
    issue = find_issue(sandbox, repo, comment["issue_number"])
    sandbox.store.delete("comment", comment["id"])
    emit_comment_event(sandbox, repo, issue, comment, action="deleted", sender=actor)


def add_reaction(
    sandbox: Sandbox, repo: Record, comment: Record, actor: str, content: str
) -> tuple[Record, bool]:
    """The user's reaction (existing one kept, as GitHub answers 200 for a repeat)."""
    if content not in REACTIONS:
        error = {"resource": "Reaction", "code": "invalid", "field": "content"}
        raise GitHubError(422, "Validation Failed", errors=[error])
    for existing in sandbox.store.find("reaction", key=str(comment["id"]), repo_id=repo["id"]):
        if (existing["user"], existing["content"]) == (actor, content):
            return existing, False
    data = {"user": actor, "content": content, "created_at": sandbox.clock.iso()}
    return sandbox.store.insert("reaction", data, repo_id=repo["id"], key=str(comment["id"])), True


def label_named(sandbox: Sandbox, repo: Record, name: str) -> Record:
    label = sandbox.store.find_one("label", key=name.lower(), repo_id=repo["id"])
    if label is None:
        raise not_found()
    return label
