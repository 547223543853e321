"""Issue comment routes (pull request conversation comments too) and their reactions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from github_sandbox.auth import actor_login, issues_access
from github_sandbox.clock import epoch_of
from github_sandbox.collab_roles import reader_sees_private, require_author_or_role
from github_sandbox.issues_model import comment_shape, find_comment, find_issue, reaction_shape
from github_sandbox.issues_ops import add_comment, add_reaction, delete_comment, edit_comment
from github_sandbox.pagination import paginated
from github_sandbox.state import sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}/issues")


class CommentIn(BaseModel):
    body: str


def _shaped(request: Request, repo: Record, comment: Record) -> dict[str, Any]:
    sees = reader_sees_private(request, repo)
    return comment_shape(sandbox_of(request), repo, comment, sees_private=sees)


@router.post("/{issue_number}/comments", status_code=201)
def create_comment(
    request: Request, owner: str, repo: str, issue_number: int, body: CommentIn
) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "write")
    issue = find_issue(sandbox, record, issue_number)
    comment = add_comment(sandbox, record, issue, actor_login(request), body.body)
    return _shaped(request, record, comment)


@router.get("/{issue_number}/comments")
def list_comments(
    request: Request, owner: str, repo: str, issue_number: int, since: str | None = None
) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "read")
    find_issue(sandbox, record, issue_number)
    comments = [
        c
        for c in sandbox.store.find("comment", key=str(issue_number), repo_id=record["id"])
        if since is None or epoch_of(c["updated_at"]) >= epoch_of(since)
    ]
    sees = reader_sees_private(request, record)
    return paginated(
        request, comments, lambda c: comment_shape(sandbox, record, c, sees_private=sees)
    )


@router.get("/comments/{comment_id}")
def get_comment(request: Request, owner: str, repo: str, comment_id: int) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "read")
    return _shaped(request, record, find_comment(sandbox, record, comment_id))


@router.patch("/comments/{comment_id}")
def update_comment(
    request: Request, owner: str, repo: str, comment_id: int, body: CommentIn
) -> dict[str, Any]:
    sandbox, record = issues_access(request, owner, repo, "write")
    comment = find_comment(sandbox, record, comment_id)
    require_author_or_role(request, record, comment["user"], "write")
    edited = edit_comment(sandbox, record, comment, actor_login(request), body.body)
    return _shaped(request, record, edited)


@router.delete("/comments/{comment_id}", status_code=204)
def remove_comment(request: Request, owner: str, repo: str, comment_id: int) -> Response:
    sandbox, record = issues_access(request, owner, repo, "write")
    comment = find_comment(sandbox, record, comment_id)
    require_author_or_role(request, record, comment["user"], "write")
    delete_comment(sandbox, record, comment, actor_login(request))
    return Response(status_code=204)


class ReactionIn(BaseModel):
    content: str


@router.post("/comments/{comment_id}/reactions")
def create_reaction(
    request: Request, owner: str, repo: str, comment_id: int, body: ReactionIn
) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "write")
    comment = find_comment(sandbox, record, comment_id)
    reaction, created = add_reaction(sandbox, record, comment, actor_login(request), body.content)
    return JSONResponse(reaction_shape(sandbox, reaction), status_code=201 if created else 200)


@router.get("/comments/{comment_id}/reactions")
def list_reactions(
    request: Request, owner: str, repo: str, comment_id: int, content: str | None = None
) -> JSONResponse:
    sandbox, record = issues_access(request, owner, repo, "read")
    find_comment(sandbox, record, comment_id)
    reactions = [
        r
        for r in sandbox.store.find("reaction", key=str(comment_id), repo_id=record["id"])
        if content in (None, r["content"])
    ]
    return paginated(request, reactions, lambda r: reaction_shape(sandbox, r))
