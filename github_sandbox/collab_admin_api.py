"""Admin acts under ``/_sandbox/``: a person opens a pull request, comments, merges, closes,
approves, clicks a check run button. (Organisations and teams: ``orgs_admin_api``.)

Acts are checked against the person's role on the repository, as the web UI would, so a reader
cannot merge here either. Each one sends the webhooks the same act sends on GitHub.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from github_sandbox.admin_guard import require_admin
from github_sandbox.checks import request_action
from github_sandbox.checks_model import find_check_run
from github_sandbox.collab_roles import member_sees_private, require_role
from github_sandbox.entities import account
from github_sandbox.errors import not_found
from github_sandbox.issues_model import comment_shape, find_issue, issue_shape
from github_sandbox.issues_ops import add_comment, edit_issue, open_issue
from github_sandbox.pulls_merge import merge_pull
from github_sandbox.pulls_model import find_pull, pull_shape
from github_sandbox.pulls_ops import open_pull
from github_sandbox.pulls_reviews import approve
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(require_admin)])


def _repo_as(
    request: Request, owner: str, name: str, user: str, role: str
) -> tuple[Sandbox, Record]:
    sandbox = sandbox_of(request)
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise not_found()
    account(sandbox, user)
    require_role(sandbox, repo, user, role)
    return sandbox, repo


class PullAct(BaseModel):
    user: str
    title: str
    head: str
    base: str
    body: str | None = None


@router.post("/repos/{owner}/{name}/pulls", status_code=201)
def act_open_pull(request: Request, owner: str, name: str, body: PullAct) -> dict[str, Any]:
    sandbox, repo = _repo_as(request, owner, name, body.user, "read")
    pull = open_pull(
        sandbox, repo, body.user, title=body.title, head=body.head, base=body.base, body=body.body
    )
    return pull_shape(
        sandbox, repo, pull, sees_private=member_sees_private(sandbox, repo, body.user)
    )


class IssueAct(BaseModel):
    user: str
    title: str
    body: str | None = None


@router.post("/repos/{owner}/{name}/issues", status_code=201)
def act_open_issue(request: Request, owner: str, name: str, body: IssueAct) -> dict[str, Any]:
    sandbox, repo = _repo_as(request, owner, name, body.user, "read")
    issue = open_issue(sandbox, repo, body.user, title=body.title, body=body.body, labels=[])
    return issue_shape(
        sandbox, repo, issue, sees_private=member_sees_private(sandbox, repo, body.user)
    )


class CommentAct(BaseModel):
    user: str
    body: str


@router.post("/repos/{owner}/{name}/issues/{number}/comments", status_code=201)
def act_comment(
    request: Request, owner: str, name: str, number: int, body: CommentAct
) -> dict[str, Any]:
    sandbox, repo = _repo_as(request, owner, name, body.user, "read")
    comment = add_comment(sandbox, repo, find_issue(sandbox, repo, number), body.user, body.body)
    sees = member_sees_private(sandbox, repo, body.user)
    return comment_shape(sandbox, repo, comment, sees_private=sees)


class StateAct(BaseModel):
    user: str
    state: Literal["open", "closed"]


@router.post("/repos/{owner}/{name}/issues/{number}/state")
def act_set_state(
    request: Request, owner: str, name: str, number: int, body: StateAct
) -> dict[str, Any]:
    """Close or reopen an issue or a pull request (triage may, as on GitHub)."""
    sandbox, repo = _repo_as(request, owner, name, body.user, "triage")
    issue = find_issue(sandbox, repo, number)
    issue = edit_issue(sandbox, repo, issue, actor=body.user, state=body.state)
    return issue_shape(
        sandbox, repo, issue, sees_private=member_sees_private(sandbox, repo, body.user)
    )


class BodyAct(BaseModel):
    user: str
    body: str


@router.post("/repos/{owner}/{name}/issues/{number}/body")
def act_edit_body(
    request: Request, owner: str, name: str, number: int, body: BodyAct
) -> dict[str, Any]:
    """Edit an issue's body, as ticking a task-list box does: ``issues`` ``edited`` with the
    old body in ``changes.body.from``, sent as the person (write access, as on GitHub)."""
    sandbox, repo = _repo_as(request, owner, name, body.user, "write")
    issue = find_issue(sandbox, repo, number)
    issue = edit_issue(sandbox, repo, issue, actor=body.user, body=body.body)
    return issue_shape(
        sandbox, repo, issue, sees_private=member_sees_private(sandbox, repo, body.user)
    )


class MergeAct(BaseModel):
    user: str
    merge_method: Literal["merge", "squash", "rebase"] = "merge"
    sha: str | None = None


@router.post("/repos/{owner}/{name}/pulls/{number}/merge")
def act_merge(
    request: Request, owner: str, name: str, number: int, body: MergeAct
) -> dict[str, Any]:
    sandbox, repo = _repo_as(request, owner, name, body.user, "write")
    pull = find_pull(sandbox, repo, number)
    return merge_pull(
        sandbox, repo, pull, body.user, method=body.merge_method, sha=body.sha, settle=False
    )


class ApproveAct(BaseModel):
    user: str
    body: str = ""


@router.post("/repos/{owner}/{name}/pulls/{number}/approve", status_code=201)
def act_approve(
    request: Request, owner: str, name: str, number: int, body: ApproveAct
) -> dict[str, Any]:
    sandbox, repo = _repo_as(request, owner, name, body.user, "read")
    review = approve(sandbox, repo, find_pull(sandbox, repo, number), body.user, body.body)
    return {"id": review["id"], "state": review["state"], "user": review["user"]}


class ButtonAct(BaseModel):
    user: str
    identifier: str


@router.post("/repos/{owner}/{name}/check-runs/{check_run_id}/request-action", status_code=204)
def act_request_action(
    request: Request, owner: str, name: str, check_run_id: int, body: ButtonAct
) -> None:
    # GitHub shows check run buttons to people with write access.
    sandbox, repo = _repo_as(request, owner, name, body.user, "write")
    run = find_check_run(sandbox, repo, check_run_id)
    request_action(sandbox, repo, run, body.identifier, body.user)
