"""Repositories and the Contents API."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from github_sandbox.auth import actor_login, principal_of, repo_access, user_role
from github_sandbox.errors import GitHubError, not_found, validation_failed
from github_sandbox.gitcore import Signature, TreeEntry
from github_sandbox.payloads import repository_payload
from github_sandbox.pushes import announce, commit_files, signature_for
from github_sandbox.shapes_git import git_commit_shape, repo_api, repo_html
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}")
RAW_MEDIA_TYPE = "application/vnd.github.raw"

_ROLE_PERMISSIONS = {
    "read": ("pull",),
    "triage": ("pull", "triage"),
    "write": ("pull", "triage", "push"),
    "maintain": ("pull", "triage", "push", "maintain"),
    "admin": ("pull", "triage", "push", "maintain", "admin"),
}


@router.get("")
def get_repo(request: Request, owner: str, repo: str) -> dict[str, Any]:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo, "metadata")
    shaped = repository_payload(sandbox, record)
    login = principal_of(request).login
    role = user_role(sandbox.store, record, login) if login else None
    granted = _ROLE_PERMISSIONS.get(role or "", ())
    shaped["permissions"] = {p: p in granted for p in _ROLE_PERMISSIONS["admin"]}
    return shaped


def _item(sandbox: Sandbox, repo: Record, entry: TreeEntry, ref: str) -> dict[str, Any]:
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    kind = {"blob": "file", "tree": "dir", "commit": "submodule"}[entry.type]
    if entry.mode == "120000":
        kind = "symlink"
    url = f"{api}/contents/{entry.path}?ref={ref}"
    git_url = f"{api}/git/{'trees' if kind == 'dir' else 'blobs'}/{entry.sha}"
    html_url = f"{html}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{entry.path}"
    download = None if kind == "dir" else f"{html}/raw/{ref}/{entry.path}"
    return {
        "type": kind,
        "size": entry.size or 0,
        "name": entry.path.rsplit("/", 1)[-1],
        "path": entry.path,
        "sha": entry.sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": download,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


@router.get("/contents/{path:path}")
def get_content(request: Request, owner: str, repo: str, path: str, ref: str | None = None) -> Any:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo)
    git, ref = sandbox.git(record), ref or record["default_branch"]
    if git.resolve_commit(ref) is None:
        raise GitHubError(404, f"No commit found for the ref {ref}")
    path = path.strip("/")
    if not path:
        return [_item(sandbox, record, e, ref) for e in git.ls_tree(ref)]
    found = git.ls_tree(ref, path=path)
    if not found or found[0].path != path:
        raise not_found()
    entry = found[0]
    if entry.type == "tree":
        return [_item(sandbox, record, e, ref) for e in git.ls_tree(f"{ref}:{path}", prefix=path)]
    blob = git.read_blob(entry.sha)
    data = blob[1] if blob else b""
    if _wants_raw(request):
        return Response(data, media_type=RAW_MEDIA_TYPE)
    if len(data) > sandbox.contents_inline_limit:
        # repos/get-content: files over 1 MB only through the raw or object media types; the
        # JSON answer keeps its shape with an empty ``content`` and ``encoding: "none"``.
        return {**_item(sandbox, record, entry, ref), "encoding": "none", "content": ""}
    return {
        **_item(sandbox, record, entry, ref),
        "encoding": "base64",
        "content": base64.encodebytes(data).decode(),
    }


def _wants_raw(request: Request) -> bool:
    """``Accept: application/vnd.github.raw+json`` (or ``.raw``, ``.v3.raw``) asks for a file's
    bytes; directories are listed as JSON whatever the media type, as on GitHub."""
    accept = request.headers.get("accept", "")
    return "application/vnd.github.raw" in accept or "application/vnd.github.v3.raw" in accept


class FileIn(BaseModel):
    message: str
    content: str
    sha: str | None = None
    branch: str | None = None
    author: dict[str, str] | None = None
    committer: dict[str, str] | None = None


@router.put("/contents/{path:path}")
def put_content(request: Request, owner: str, repo: str, path: str, body: FileIn) -> JSONResponse:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo, "contents", "write")
    git, path = sandbox.git(record), path.strip("/")
    branch = body.branch or record["default_branch"]
    try:
        data = base64.b64decode(body.content, validate=False)
    except binascii.Error as err:
        raise validation_failed("content is not valid Base64", field="content") from err
    with git.lock:
        existing = (
            git.ls_tree(f"refs/heads/{branch}", path=path)
            if git.ref_sha(f"refs/heads/{branch}")
            else []
        )
        current = existing[0].sha if existing and existing[0].path == path else None
        if current is not None and body.sha is None:
            raise GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
        if body.sha is not None and body.sha != current:
            raise GitHubError(409, f"{path} does not match {body.sha}")
        actor = actor_login(request)
        author = _person(body.author, signature_for(sandbox, actor))
        update = commit_files(
            sandbox, record, branch, {path: data}, message=body.message, author=author
        )
    announce(sandbox, record, [update], actor)
    entry = git.ls_tree(update.after, path=path)[0]
    commit = git.commit(update.after)
    assert commit is not None
    answer = {
        "content": _item(sandbox, record, entry, branch),
        "commit": git_commit_shape(sandbox, record, commit),
    }
    return JSONResponse(answer, status_code=200 if current else 201)


def _person(person: dict[str, str] | None, fallback: Signature) -> Signature:
    if not person or "name" not in person or "email" not in person:
        return fallback
    return Signature(person["name"], person["email"], fallback.epoch)
