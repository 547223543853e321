"""Issue routes: create, list, get, update; repository labels and issue labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from github_sandbox.auth import actor_login, issues_access
from github_sandbox.clock import epoch_of
from github_sandbox.collab_roles import (
    reader_sees_private,
    require_author_or_role,
    require_user_role,
)
from github_sandbox.issues_model import (
    DEFAULT_LABEL_COLOR,
    create_label,
    find_issue,
    issue_labels,
    issue_shape,
    label_shape,
)
from github_sandbox.issues_ops import (
    add_labels,
    edit_issue,
    open_issue,
    remove_label,
    set_labels,
)
from github_sandbox.pagination import paginated
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

_L = TypeVar("_L")  # what a label change takes: names to add or set, or one name

router = APIRouter(prefix="/repos/{owner}/{repo}")


class IssueIn(BaseModel):
    title: str
    body: str | None = None
    labels: list[str] = []


@router.post("/issues", status_code=201)
def create_issue(request: Request, owner: str, repo: str, body: IssueIn) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "write")
    if body.labels:
        require_user_role(request, record, "triage")
    issue = open_issue(
        sandbox, record, actor_login(request), title=body.title, body=body.body, labels=body.labels
    )
    return issue_shape(sandbox, record, issue, sees_private=reader_sees_private(request, record))


def _matches(
    issue: Record, state: str, labels: set[str], creator: str | None, since: str | None
) -> bool:
    return (
        state in ("all", issue["state"])
        and labels <= {name.lower() for name in issue["labels"]}
        and (creator is None or issue["user"].lower() == creator.lower())
        and (since is None or epoch_of(issue["updated_at"]) >= epoch_of(since))
    )


@router.get("/issues")
def list_issues(
    request: Request,
    owner: str,
    repo: str,
    *,
    state: Literal["open", "closed", "all"] = "open",
    labels: str | None = None,
    creator: str | None = None,
    since: str | None = None,
    sort: Literal["created", "updated", "comments"] = "created",
    direction: Literal["asc", "desc"] = "desc",
) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "read")
    wanted = {name.strip().lower() for name in (labels or "").split(",") if name.strip()}
    found = [
        issue
        for issue in sandbox.store.find("issue", repo_id=record["id"])
        if _matches(issue, state, wanted, creator, since)
    ]
    sees = reader_sees_private(request, record)
    shaped = [issue_shape(sandbox, record, issue, sees_private=sees) for issue in found]
    key = {"created": "created_at", "updated": "updated_at", "comments": "comments"}[sort]
    shaped.sort(key=lambda i: (i[key], i["number"]), reverse=direction == "desc")
    return paginated(request, shaped, lambda i: i)


@router.get("/issues/{issue_number}")
def get_issue(request: Request, owner: str, repo: str, issue_number: int) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "read")
    issue = find_issue(sandbox, record, issue_number)
    return issue_shape(sandbox, record, issue, sees_private=reader_sees_private(request, record))


class IssuePatch(BaseModel):
    title: str | None = None
    body: str | None = None
    state: Literal["open", "closed"] | None = None
    state_reason: Literal["completed", "not_planned", "reopened"] | None = None
    labels: list[str] | None = None


@router.patch("/issues/{issue_number}")
def update_issue(
    request: Request, owner: str, repo: str, issue_number: int, body: IssuePatch
) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "write")
    issue = find_issue(sandbox, record, issue_number)
    needed = "write" if (body.title, body.body) != (None, None) else "triage"
    require_author_or_role(request, record, issue["user"], needed)
    actor = actor_login(request)
    if body.labels is not None:
        # GitHub replaces the whole set ([] clears it) [OA issues/update].
        require_user_role(request, record, "triage")
        issue = set_labels(sandbox, record, issue, actor, body.labels)
    issue = edit_issue(
        sandbox,
        record,
        issue,
        actor=actor,
        title=body.title,
        body=body.body,
        state=body.state,
        state_reason=body.state_reason,
    )
    return issue_shape(sandbox, record, issue, sees_private=reader_sees_private(request, record))


# -- labels ----------------------------------------------------------------------------------


@router.get("/labels")
def list_labels(request: Request, owner: str, repo: str) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "read")
    labels = sandbox.store.find("label", repo_id=record["id"])
    return paginated(request, labels, lambda label: label_shape(sandbox, record, label))


class LabelIn(BaseModel):
    name: str
    color: str = DEFAULT_LABEL_COLOR
    description: str | None = None


@router.post("/labels", status_code=201)
def post_label(request: Request, owner: str, repo: str, body: LabelIn) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "write")
    require_user_role(request, record, "write")
    label = create_label(sandbox, record, body.name, body.color, body.description)
    return label_shape(sandbox, record, label)


class LabelsIn(BaseModel):
    labels: list[str]


def _labels_json(sandbox: Sandbox, repo: Record, issue: Record) -> list[dict[str, Any]]:
    return [label_shape(sandbox, repo, label) for label in issue_labels(sandbox, repo, issue)]


@router.get("/issues/{issue_number}/labels")
def list_issue_labels(request: Request, owner: str, repo: str, issue_number: int) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "read")
    issue = find_issue(sandbox, record, issue_number)
    return paginated(request, _labels_json(sandbox, record, issue), lambda label: label)


@router.post("/issues/{issue_number}/labels")
def post_issue_labels(
    request: Request, owner: str, repo: str, issue_number: int, body: LabelsIn
) -> list[dict[str, Any]]:
    return _relabel(request, owner, repo, issue_number, change=add_labels, labels=body.labels)


@router.put("/issues/{issue_number}/labels")
def put_issue_labels(
    request: Request, owner: str, repo: str, issue_number: int, body: LabelsIn
) -> list[dict[str, Any]]:
    """Replace the labels [OA issues/set-labels]; ``POST`` adds [OA issues/add-labels]."""
    return _relabel(request, owner, repo, issue_number, change=set_labels, labels=body.labels)


@router.delete("/issues/{issue_number}/labels/{name}")
def delete_issue_label(
    request: Request, owner: str, repo: str, issue_number: int, name: str
) -> list[dict[str, Any]]:
    return _relabel(request, owner, repo, issue_number, change=remove_label, labels=name)


def _relabel(
    request: Request,
    owner: str,
    repo: str,
    number: int,
    *,
    change: Callable[[Sandbox, Record, Record, str, _L], Record],
    labels: _L,
) -> list[dict[str, Any]]:
    """The label routes' one path: triage to change labels, then ``change`` (add, set or remove)
    and the issue's labels as GitHub lists them."""
    sandbox, record = issues_access(request, owner, repo, "write")
    require_user_role(request, record, "triage")
    issue = find_issue(sandbox, record, number)
    issue = change(sandbox, record, issue, actor_login(request), labels)
    return _labels_json(sandbox, record, issue)
