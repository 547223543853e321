"""Issues, comments, labels and reactions: their records and their GitHub shapes.

A pull request is an issue too (one number sequence per repository): its ``issue`` record holds
title, body, state, labels and comments; the ``pull`` record (``pulls_model``) holds the git side.
Shapes carry the fields both REST and webhook schemas require, so one builder serves both.
"""

from __future__ import annotations

from typing import Any

from github_sandbox.collab_roles import author_association
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.payloads import account_record
from github_sandbox.shapes import app_shape, node_id, user_shape
from github_sandbox.shapes_git import repo_api, repo_html
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

MAX_BODY = 65536
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
DEFAULT_LABEL_COLOR = "ededed"


def check_body(body: str | None, resource: str) -> None:
    """GitHub's limit on issue, pull request and comment bodies."""
    if body is not None and len(body) > MAX_BODY:
        message = f"Body is too long (maximum is {MAX_BODY} characters)"
        error = {"resource": resource, "code": "custom", "field": "body", "message": message}
        raise GitHubError(422, "Validation Failed", errors=[error])


def find_issue(sandbox: Sandbox, repo: Record, number: int) -> Record:
    issue = sandbox.store.find_one("issue", key=str(number), repo_id=repo["id"])
    if issue is None:
        raise not_found()
    return issue


def new_issue(
    sandbox: Sandbox,
    repo: Record,
    author: str,
    *,
    title: str,
    body: str | None,
    labels: list[str],
    is_pull: bool,
) -> Record:
    if not title.strip():
        error = {"resource": "Issue", "code": "missing_field", "field": "title"}
        raise GitHubError(422, "Validation Failed", errors=[error])
    check_body(body, "PullRequest" if is_pull else "Issue")
    now = sandbox.clock.iso()
    number = sandbox.store.next_value(f"number:{repo['id']}")
    data = {
        "number": number,
        "title": title,
        "body": body,
        "user": account_record(sandbox, author)["login"],
        "app_id": app_of_actor(sandbox, author),
        "state": "open",
        "state_reason": None,
        "labels": [label["name"] for label in ensure_labels(sandbox, repo, labels)],
        "locked": False,
        "is_pull": is_pull,
        "created_at": now,
        "updated_at": now,
        "closed_at": None,
        "closed_by": None,
    }
    return sandbox.store.insert("issue", data, repo_id=repo["id"], key=str(number))


def set_state(
    sandbox: Sandbox, issue: Record, state: str, actor: str, reason: str | None
) -> Record:
    closing = state == "closed"
    now = sandbox.clock.iso()
    return {
        **issue,
        "state": state,
        "state_reason": (reason or "completed") if closing else "reopened",
        "closed_at": now if closing else None,
        "closed_by": actor if closing else None,
        "updated_at": now,
    }


def comment_count(sandbox: Sandbox, repo: Record, number: int) -> int:
    return len(sandbox.store.find("comment", key=str(number), repo_id=repo["id"]))


def issue_shape(
    sandbox: Sandbox, repo: Record, issue: Record, *, sees_private: bool = False
) -> dict[str, Any]:
    """``issue`` (REST) which also satisfies the webhook ``issue`` object; ``sees_private``: the
    reader may see private organisation memberships (``collab_roles.author_association``)."""
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    number = issue["number"]
    url = f"{api}/issues/{number}"
    kind = "pull" if issue["is_pull"] else "issues"
    closed_by = issue.get("closed_by")
    shaped: dict[str, Any] = {
        "id": issue["id"],
        "node_id": node_id("Issue", issue["id"]),
        "url": url,
        "repository_url": api,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{html}/{kind}/{number}",
        "number": number,
        "state": issue["state"],
        "state_reason": issue.get("state_reason"),
        "title": issue["title"],
        "body": issue["body"],
        "user": person(sandbox, issue["user"]),
        "labels": [label_shape(sandbox, repo, lb) for lb in issue_labels(sandbox, repo, issue)],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": issue["locked"],
        "active_lock_reason": None,
        "comments": comment_count(sandbox, repo, number),
        "closed_at": issue["closed_at"],
        "created_at": issue["created_at"],
        "updated_at": issue["updated_at"],
        "closed_by": person(sandbox, closed_by) if closed_by else None,
        "author_association": author_association(
            sandbox, repo, issue["user"], sees_private=sees_private
        ),
        "performed_via_github_app": app_performing(sandbox, issue),
        "timeline_url": f"{url}/timeline",
        "reactions": reactions_summary(url, []),
    }
    if issue["is_pull"]:
        shaped["draft"] = False
        shaped["pull_request"] = {
            "url": f"{api}/pulls/{number}",
            "html_url": f"{html}/pull/{number}",
            "diff_url": f"{html}/pull/{number}.diff",
            "patch_url": f"{html}/pull/{number}.patch",
            "merged_at": issue.get("merged_at"),
        }
    return shaped


def person(sandbox: Sandbox, login: str) -> dict[str, Any]:
    return user_shape(sandbox.urls.api, account_record(sandbox, login))


def app_of_actor(sandbox: Sandbox, login: str) -> int | None:
    """The id of the app whose bot user ``login`` is (``<slug>[bot]``): the app an installation
    token acts for; None for people."""
    if not login.endswith("[bot]"):
        return None
    app = sandbox.store.find_one("app", key=login.removesuffix("[bot]").lower())
    return None if app is None else int(app["id"])


def app_performing(sandbox: Sandbox, record: Record) -> dict[str, Any] | None:
    """``performed_via_github_app``: the app (``integration``) that made an issue or comment
    through an installation token; null for people's own."""
    app = sandbox.store.get("app", record.get("app_id") or 0)
    if app is None:
        return None
    return app_shape(sandbox.urls.api, app, account_record(sandbox, app["owner"]))


# -- labels ----------------------------------------------------------------------------------


def find_label(sandbox: Sandbox, repo: Record, name: str) -> Record | None:
    return sandbox.store.find_one("label", key=name.lower(), repo_id=repo["id"])


def create_label(
    sandbox: Sandbox, repo: Record, name: str, color: str, description: str | None
) -> Record:
    if find_label(sandbox, repo, name) is not None:
        error = {"resource": "Label", "code": "already_exists", "field": "name"}
        raise GitHubError(422, "Validation Failed", errors=[error])
    data = {"name": name, "color": color.lstrip("#").lower(), "description": description}
    return sandbox.store.insert("label", data, repo_id=repo["id"], key=name.lower())


def ensure_labels(sandbox: Sandbox, repo: Record, names: list[str]) -> list[Record]:
    """The labels named, created on the fly as GitHub does when an issue gets a new label."""
    found = []
    for name in dict.fromkeys(names):
        label = find_label(sandbox, repo, name)
        found.append(label or create_label(sandbox, repo, name, DEFAULT_LABEL_COLOR, None))
    return found


def issue_labels(sandbox: Sandbox, repo: Record, issue: Record) -> list[Record]:
    labels = (find_label(sandbox, repo, name) for name in issue["labels"])
    return [label for label in labels if label is not None]


def label_shape(sandbox: Sandbox, repo: Record, label: Record) -> dict[str, Any]:
    return {
        "id": label["id"],
        "node_id": node_id("Label", label["id"]),
        "url": f"{repo_api(sandbox, repo)}/labels/{label['name']}",
        "name": label["name"],
        "description": label["description"],
        "color": label["color"],
        "default": False,
        "archived_at": None,
        "archived_by": None,
    }


# -- comments and reactions ------------------------------------------------------------------


def find_comment(sandbox: Sandbox, repo: Record, comment_id: int) -> Record:
    comment = sandbox.store.get("comment", comment_id)
    if comment is None or comment["repo_id"] != repo["id"]:
        raise not_found()
    return comment


def comment_shape(
    sandbox: Sandbox, repo: Record, comment: Record, *, sees_private: bool = False
) -> dict[str, Any]:
    """``issue-comment`` (REST) which also satisfies the webhook ``comment`` object."""
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    url = f"{api}/issues/comments/{comment['id']}"
    number = comment["issue_number"]
    kind = "pull" if comment["is_pull"] else "issues"
    reactions = sandbox.store.find("reaction", key=str(comment["id"]), repo_id=repo["id"])
    return {
        "id": comment["id"],
        "node_id": node_id("IssueComment", comment["id"]),
        "url": url,
        "html_url": f"{html}/{kind}/{number}#issuecomment-{comment['id']}",
        "body": comment["body"],
        "user": person(sandbox, comment["user"]),
        "created_at": comment["created_at"],
        "updated_at": comment["updated_at"],
        "issue_url": f"{api}/issues/{number}",
        "author_association": author_association(
            sandbox, repo, comment["user"], sees_private=sees_private
        ),
        "performed_via_github_app": app_performing(sandbox, comment),
        "reactions": reactions_summary(url, reactions),
    }


def reactions_summary(url: str, reactions: list[Record]) -> dict[str, Any]:
    counts = dict.fromkeys(REACTIONS, 0)
    for reaction in reactions:
        counts[reaction["content"]] += 1
    return {"url": f"{url}/reactions", "total_count": len(reactions), **counts}


def reaction_shape(sandbox: Sandbox, reaction: Record) -> dict[str, Any]:
    return {
        "id": reaction["id"],
        "node_id": node_id("Reaction", reaction["id"]),
        "user": person(sandbox, reaction["user"]),
        "content": reaction["content"],
        "created_at": reaction["created_at"],
    }
