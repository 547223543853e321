"""Git Data API: refs, trees, blobs and commits, all through git plumbing."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from github_sandbox.auth import actor_login, repo_access
from github_sandbox.clock import epoch_of
from github_sandbox.errors import GitHubError, not_found, validation_failed
from github_sandbox.gitcore import Signature
from github_sandbox.gitrepo import GitRepo
from github_sandbox.gittree import TreeChange, TreeError, write_tree
from github_sandbox.pushes import announce, create_ref, move_ref, remove_ref, signature_for
from github_sandbox.shapes_git import git_commit_shape, ref_shape, repo_api, tree_shape
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record
from github_sandbox.workflows import check_workflow_change

router = APIRouter(prefix="/repos/{owner}/{repo}/git")


def _git(
    request: Request, owner: str, repo: str, level: Literal["read", "write"] = "read"
) -> tuple[Sandbox, Record, GitRepo]:
    record = repo_access(request, owner, repo, "contents", level)
    sandbox = sandbox_of(request)
    git = sandbox.git(record)
    if git.is_empty():
        raise GitHubError(409, "Git Repository is empty.")
    return sandbox, record, git


def _ref_json(sandbox: Sandbox, repo: Record, git: GitRepo, ref: str) -> dict[str, Any]:
    found = [row for row in git.refs(ref) if row[0] == ref]
    if not found:
        raise not_found()
    name, sha, kind = found[0]
    return ref_shape(sandbox, repo, name, sha, kind)


@router.get("/ref/{ref:path}")
def get_ref(request: Request, owner: str, repo: str, ref: str) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo)
    return _ref_json(sandbox, record, git, f"refs/{ref}")


@router.get("/matching-refs/{ref:path}")
def list_matching_refs(request: Request, owner: str, repo: str, ref: str) -> list[dict[str, Any]]:
    sandbox, record, git = _git(request, owner, repo)
    prefix = f"refs/{ref}"
    return [
        ref_shape(sandbox, record, name, sha, kind)
        for name, sha, kind in git.refs(prefix.rsplit("/", 1)[0] + "/")
        if name.startswith(prefix)
    ]


class RefIn(BaseModel):
    ref: str
    sha: str


@router.post("/refs", status_code=201)
def post_ref(request: Request, owner: str, repo: str, body: RefIn) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo, "write")
    if not body.ref.startswith("refs/") or body.ref.count("/") < 2:
        raise GitHubError(422, "Reference name must start with 'refs/' and have two slashes.")
    if git.object_type(body.sha) == "commit":
        check_workflow_change(request, git, None, body.sha)
    update = create_ref(sandbox, record, body.ref, body.sha)
    announce(sandbox, record, [update], actor_login(request))
    return _ref_json(sandbox, record, git, body.ref)


class RefUpdateIn(BaseModel):
    sha: str
    force: bool = False


@router.patch("/refs/{ref:path}")
def patch_ref(
    request: Request, owner: str, repo: str, ref: str, body: RefUpdateIn
) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo, "write")
    current = git.ref_sha(f"refs/{ref}")
    if current is not None and git.object_type(body.sha) == "commit":
        check_workflow_change(request, git, current, body.sha)
    update = move_ref(sandbox, record, f"refs/{ref}", body.sha, force=body.force)
    announce(sandbox, record, [update], actor_login(request))
    return _ref_json(sandbox, record, git, f"refs/{ref}")


@router.delete("/refs/{ref:path}", status_code=204)
def delete_ref(request: Request, owner: str, repo: str, ref: str) -> Response:
    sandbox, record, _ = _git(request, owner, repo, "write")
    if ref == f"heads/{record['default_branch']}":
        # GitHub refuses to delete the default branch (as ``git push`` says, "refusing to
        # delete the current branch"); ``git/delete-ref`` documents the 422.
        raise GitHubError(422, "Cannot delete the default branch")
    update = remove_ref(sandbox, record, f"refs/{ref}")
    announce(sandbox, record, [update], actor_login(request))
    return Response(status_code=204)


@router.get("/trees/{tree_sha}")
def get_tree(
    request: Request, owner: str, repo: str, tree_sha: str, recursive: str | None = None
) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo)
    sha = git.resolve_tree(tree_sha)
    if sha is None:
        raise not_found()
    deep = recursive not in (None, "", "0", "false")
    entries = git.ls_tree(sha, recursive=deep)
    limit = sandbox.tree_entry_limit if deep else len(entries)
    return tree_shape(sandbox, record, sha, entries[:limit], truncated=len(entries) > limit)


class TreeEntryIn(BaseModel):
    path: str
    mode: Literal["100644", "100755", "040000", "160000", "120000"]
    type: Literal["blob", "tree", "commit"]
    sha: str | None = None
    content: str | None = None


class TreeIn(BaseModel):
    tree: list[TreeEntryIn]
    base_tree: str | None = None


@router.post("/trees", status_code=201)
def post_tree(request: Request, owner: str, repo: str, body: TreeIn) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo, "write")
    if body.base_tree and git.resolve_tree(body.base_tree) is None:
        raise validation_failed("base_tree is not a valid tree", field="base_tree")
    changes = []
    for entry in body.tree:
        if entry.sha is not None and entry.content is not None:
            raise validation_failed("Must supply either tree.sha or tree.content", field="tree")
        content = None if entry.content is None else entry.content.encode()
        changes.append(TreeChange(entry.path, entry.mode, sha=entry.sha, content=content))
    try:
        sha = write_tree(git, body.base_tree, changes)
    except TreeError as err:
        raise GitHubError(422, "GitRPC::BadObjectState", errors=[str(err)]) from err
    return tree_shape(sandbox, record, sha, git.ls_tree(sha))


@router.get("/blobs/{file_sha}")
def get_blob(request: Request, owner: str, repo: str, file_sha: str) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo)
    blob = git.read_blob(file_sha)
    if blob is None:
        raise not_found()
    sha, data = blob
    return {
        "sha": sha,
        "node_id": f"B_{sha[:16]}",
        "size": len(data),
        "url": f"{repo_api(sandbox, record)}/git/blobs/{sha}",
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
    }


class BlobIn(BaseModel):
    content: str
    encoding: Literal["utf-8", "base64"] = "utf-8"


@router.post("/blobs", status_code=201)
def post_blob(request: Request, owner: str, repo: str, body: BlobIn) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo, "write")
    try:
        data = (
            base64.b64decode(body.content) if body.encoding == "base64" else body.content.encode()
        )
    except binascii.Error as err:
        raise validation_failed("content is not valid base64", field="content") from err
    (sha,) = git.hash_blobs([data])
    return {"sha": sha, "url": f"{repo_api(sandbox, record)}/git/blobs/{sha}"}


@router.get("/commits/{commit_sha}")
def get_git_commit(request: Request, owner: str, repo: str, commit_sha: str) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo)
    commit = git.commit(commit_sha)
    if commit is None:
        raise not_found()
    return git_commit_shape(sandbox, record, commit)


class PersonIn(BaseModel):
    name: str
    email: str
    date: str | None = None


class CommitIn(BaseModel):
    message: str
    tree: str
    parents: list[str] = []
    author: PersonIn | None = None
    committer: PersonIn | None = None


@router.post("/commits", status_code=201)
def post_git_commit(request: Request, owner: str, repo: str, body: CommitIn) -> dict[str, Any]:
    sandbox, record, git = _git(request, owner, repo, "write")
    if git.resolve_tree(body.tree) is None:
        raise validation_failed("Tree SHA does not exist", field="tree")
    for parent in body.parents:
        if git.object_type(parent) != "commit":
            raise validation_failed("Parent SHA does not exist or is not a commit object")
    fallback = signature_for(sandbox, actor_login(request))
    author = _signature(body.author, fallback)
    committer = _signature(body.committer, author if body.author else fallback)
    sha = git.commit_tree(body.tree, body.parents, body.message, author, committer)
    commit = git.commit(sha)
    assert commit is not None
    return git_commit_shape(sandbox, record, commit)


def _signature(person: PersonIn | None, fallback: Signature) -> Signature:
    if person is None:
        return fallback
    epoch = fallback.epoch if person.date is None else _epoch(person.date)
    return Signature(person.name, person.email, epoch)


def _epoch(iso: str) -> int:
    try:
        return epoch_of(iso)
    except ValueError as err:
        raise validation_failed(f"invalid date date={iso}", field="date") from err
