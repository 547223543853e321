"""Pull request routes: create, list, get, update, files, commits, merge."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from github_sandbox.auth import actor_login, repo_access
from github_sandbox.collab_roles import reader_sees_private, require_author_or_role
from github_sandbox.issues_model import comment_count, find_issue
from github_sandbox.pagination import paginated
from github_sandbox.pulls_git import pull_commits, pull_files
from github_sandbox.pulls_merge import merge_pull
from github_sandbox.pulls_model import base_sha_of, find_pull, pull_shape
from github_sandbox.pulls_ops import branch_name, edit_pull, open_pull
from github_sandbox.routes_history import diff_entry_shape
from github_sandbox.shapes_git import commit_shape
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}/pulls")


def _read(request: Request, owner: str, repo: str) -> tuple[Sandbox, Record]:
    record = repo_access(request, owner, repo, "pull_requests", "read")
    return sandbox_of(request), record


class PullIn(BaseModel):
    title: str
    head: str
    base: str
    body: str | None = None
    draft: bool = False
    maintainer_can_modify: bool = True


@router.post("", status_code=201)
def create_pull(request: Request, owner: str, repo: str, body: PullIn) -> dict[str, Any]:
    # Anyone who can read may propose a change; pushing the head branch needed write already.
    record = repo_access(request, owner, repo, "pull_requests", "write", min_role="read")
    sandbox = sandbox_of(request)
    pull = open_pull(
        sandbox,
        record,
        actor_login(request),
        title=body.title,
        head=body.head,
        base=body.base,
        body=body.body,
        draft=body.draft,
    )
    return pull_shape(sandbox, record, pull, sees_private=reader_sees_private(request, record))


def _ordered(
    sandbox: Sandbox, repo: Record, shaped: list[dict[str, Any]], sort: str, direction: str | None
) -> list[dict[str, Any]]:
    """GitHub's orders: newest first by default; popularity counts comments."""

    def key(pull: dict[str, Any]) -> tuple[Any, int]:
        if sort == "popularity":
            return comment_count(sandbox, repo, pull["number"]), pull["number"]
        return pull["updated_at" if sort == "updated" else "created_at"], pull["number"]

    descending = (direction or ("desc" if sort in ("created", "updated") else "asc")) == "desc"
    return sorted(shaped, key=key, reverse=descending)


@router.get("")
def list_pulls(
    request: Request,
    owner: str,
    repo: str,
    *,
    state: Literal["open", "closed", "all"] = "open",
    head: str | None = None,
    base: str | None = None,
    sort: Literal["created", "updated", "popularity", "long-running"] = "created",
    direction: Literal["asc", "desc"] | None = None,
) -> JSONResponse:
    sandbox, record = _read(request, owner, repo)
    pulls = [
        p
        for p in sandbox.store.find("pull", repo_id=record["id"])
        if state in ("all", p["state"])
        and (head is None or p["head"] == branch_name(record, head))
        and (base is None or p["base"] == base)
    ]
    sees = reader_sees_private(request, record)
    shaped = [pull_shape(sandbox, record, p, full=False, sees_private=sees) for p in pulls]
    return paginated(request, _ordered(sandbox, record, shaped, sort, direction), lambda p: p)


@router.get("/{pull_number}")
def get_pull(request: Request, owner: str, repo: str, pull_number: int) -> dict[str, Any]:
    sandbox, record = _read(request, owner, repo)
    pull = find_pull(sandbox, record, pull_number)
    return pull_shape(sandbox, record, pull, sees_private=reader_sees_private(request, record))


class PullPatch(BaseModel):
    title: str | None = None
    body: str | None = None
    state: Literal["open", "closed"] | None = None
    base: str | None = None


@router.patch("/{pull_number}")
def update_pull(
    request: Request, owner: str, repo: str, pull_number: int, body: PullPatch
) -> dict[str, Any]:
    record = repo_access(request, owner, repo, "pull_requests", "write", min_role="read")
    sandbox = sandbox_of(request)
    pull = find_pull(sandbox, record, pull_number)
    author = find_issue(sandbox, record, pull_number)["user"]
    content = (body.title, body.body, body.base) != (None, None, None)
    require_author_or_role(request, record, author, "write" if content else "triage")
    pull = edit_pull(
        sandbox,
        record,
        pull,
        actor_login(request),
        title=body.title,
        body=body.body,
        base=body.base,
        state=body.state,
    )
    return pull_shape(sandbox, record, pull, sees_private=reader_sees_private(request, record))


@router.get("/{pull_number}/files")
def list_files(request: Request, owner: str, repo: str, pull_number: int) -> JSONResponse:
    sandbox, record = _read(request, owner, repo)
    pull = find_pull(sandbox, record, pull_number)
    head = pull["head_sha"]
    files = pull_files(sandbox.git(record), base_sha_of(sandbox, record, pull), head)
    files = files[: sandbox.pull_files_limit]  # pulls/list-files: "a maximum of 3000 files"
    return paginated(request, files, lambda f: diff_entry_shape(sandbox, record, f, head))


@router.get("/{pull_number}/commits")
def list_commits(request: Request, owner: str, repo: str, pull_number: int) -> JSONResponse:
    sandbox, record = _read(request, owner, repo)
    pull = find_pull(sandbox, record, pull_number)
    base_sha = base_sha_of(sandbox, record, pull)
    commits = pull_commits(sandbox.git(record), base_sha, pull["head_sha"])
    return paginated(request, commits, lambda c: commit_shape(sandbox, record, c))


@router.get("/{pull_number}/merge")
def check_merged(request: Request, owner: str, repo: str, pull_number: int) -> Response:
    sandbox, record = _read(request, owner, repo)
    merged = find_pull(sandbox, record, pull_number)["merged"]
    return Response(status_code=204 if merged else 404)


class MergeIn(BaseModel):
    commit_title: str | None = None
    commit_message: str | None = None
    sha: str | None = None
    merge_method: Literal["merge", "squash", "rebase"] = "merge"


@router.put("/{pull_number}/merge")
def merge(
    request: Request, owner: str, repo: str, pull_number: int, body: MergeIn | None = None
) -> dict[str, Any]:
    record = repo_access(request, owner, repo, "contents", "write")
    sandbox = sandbox_of(request)
    given = body or MergeIn()
    return merge_pull(
        sandbox,
        record,
        find_pull(sandbox, record, pull_number),
        actor_login(request),
        method=given.merge_method,
        sha=given.sha,
        commit_title=given.commit_title,
        commit_message=given.commit_message,
    )
