"""Approving reviews (the one review kind the sandbox models) and ``pull_request_review``."""

from __future__ import annotations

from typing import Any

from github_sandbox.collab_roles import author_association
from github_sandbox.issues_model import person
from github_sandbox.payloads import base_payload, emit_repo_event
from github_sandbox.pulls_model import pull_shape
from github_sandbox.shapes import node_id
from github_sandbox.shapes_git import repo_api, repo_html
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def approve(sandbox: Sandbox, repo: Record, pull: Record, user: str, body: str) -> Record:
    """``user`` approves the head commit; sends ``pull_request_review`` submitted."""
    data = {
        "number": pull["number"],
        "user": user,
        "body": body,
        "state": "APPROVED",
        "commit_id": pull["head_sha"],
        "submitted_at": sandbox.clock.iso(),
    }
    review = sandbox.store.insert("review", data, repo_id=repo["id"], key=str(pull["number"]))
    payload = review_payload(sandbox, repo, pull, review)
    emit_repo_event(sandbox, repo, "pull_request_review", payload)
    return review


def review_payload(sandbox: Sandbox, repo: Record, pull: Record, review: Record) -> dict[str, Any]:
    return {
        "action": "submitted",
        "review": review_shape(sandbox, repo, review),
        "pull_request": pull_shape(sandbox, repo, pull),
        **base_payload(sandbox, repo, review["user"]),
    }


def review_shape(sandbox: Sandbox, repo: Record, review: Record) -> dict[str, Any]:
    number = review["number"]
    html = f"{repo_html(sandbox, repo)}/pull/{number}#pullrequestreview-{review['id']}"
    pull_url = f"{repo_api(sandbox, repo)}/pulls/{number}"
    return {
        "id": review["id"],
        "node_id": node_id("PullRequestReview", review["id"]),
        "user": person(sandbox, review["user"]),
        "body": review["body"] or None,
        "state": review["state"].lower(),
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": author_association(sandbox, repo, review["user"]),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "submitted_at": review["submitted_at"],
        "commit_id": review["commit_id"],
    }
