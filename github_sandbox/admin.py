"""The admin API under ``/_sandbox/``: apps, installations, users, roles, repos, pushes.

Operational endpoints (request log, faults, clock, deliveries) live in ``admin_ops``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from github_sandbox.admin_guard import require_admin
from github_sandbox.entities import (
    create_app,
    create_installation,
    create_user,
    grant_role,
    issue_installation_token,
)
from github_sandbox.errors import not_found
from github_sandbox.packages import publish_container, version_json
from github_sandbox.payloads import repository_payload
from github_sandbox.payloads_apps import emit_installation_created, emit_repositories_changed
from github_sandbox.seeding import create_repo, files_from_dir, force_branch, push
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/_sandbox", dependencies=[Depends(require_admin)])


class AppIn(BaseModel):
    name: str
    owner: str = "sandbox-org"
    webhook_url: str | None = None
    permissions: dict[str, str] = {}
    events: list[str] = []
    setup_url: str | None = None
    redirect_url: str | None = None
    description: str = ""


@router.post("/apps", status_code=201)
def admin_create_app(request: Request, body: AppIn) -> dict[str, Any]:
    extra = {
        "setup_url": body.setup_url,
        "redirect_url": body.redirect_url,
        "description": body.description,
    }
    app = create_app(
        sandbox_of(request),
        name=body.name,
        owner=body.owner,
        webhook_url=body.webhook_url,
        permissions=body.permissions,
        events=body.events,
        extra=extra,
    )
    return app_credentials(app)


def app_credentials(app: Record) -> dict[str, Any]:
    keys = (
        "id",
        "slug",
        "name",
        "owner",
        "client_id",
        "client_secret",
        "webhook_secret",
        "pem",
        "permissions",
        "events",
        "webhook_url",
    )
    return {key: app.get(key) for key in keys}


class InstallIn(BaseModel):
    account: str
    repositories: list[str] | None = None
    sender: str | None = None


@router.post("/apps/{app_id}/installations", status_code=201)
def admin_install(request: Request, app_id: int, body: InstallIn) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    app = sandbox.store.get("app", app_id)
    if app is None:
        raise not_found()
    installation = create_installation(sandbox, app, body.account, body.repositories)
    emit_installation_created(sandbox, installation, body.sender or body.account)
    return {"id": installation["id"], "account": installation["account"]}


@router.post("/installations/{installation_id}/token", status_code=201)
def admin_token(request: Request, installation_id: int) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    installation = sandbox.store.get("installation", installation_id)
    if installation is None:
        raise not_found()
    token = issue_installation_token(sandbox, installation)
    return {"token": token["token"], "expires_at": token["expires_at"]}


class RepositoriesIn(BaseModel):
    add: list[str] = []
    remove: list[str] = []
    sender: str | None = None


@router.post("/installations/{installation_id}/repositories")
def admin_installation_repositories(
    request: Request, installation_id: int, body: RepositoriesIn
) -> dict[str, Any]:
    """Add or remove repositories of a ``selected`` installation; sends
    ``installation_repositories`` (one event for the added, one for the removed)."""
    sandbox = sandbox_of(request)
    installation = sandbox.store.get("installation", installation_id)
    if installation is None:
        raise not_found()
    added = [_repo(sandbox, installation["account"], name) for name in body.add]
    removed = [_repo(sandbox, installation["account"], name) for name in body.remove]
    ids = set(installation["repository_ids"]) | {r["id"] for r in added}
    ids -= {r["id"] for r in removed}
    installation = sandbox.store.update(
        "installation", {**installation, "repository_ids": sorted(ids)}
    )
    sender = body.sender or installation["account"]
    for changed, is_added in ((added, True), (removed, False)):
        if changed:
            emit_repositories_changed(
                sandbox,
                installation,
                changed if is_added else [],
                [] if is_added else changed,
                sender,
            )
    return {"id": installation["id"], "repository_ids": installation["repository_ids"]}


class UserIn(BaseModel):
    login: str
    name: str | None = None


@router.post("/users", status_code=201)
def admin_create_user(request: Request, body: UserIn) -> dict[str, Any]:
    user, token = create_user(sandbox_of(request), body.login, name=body.name)
    return {"login": user["login"], "id": user["id"], "token": token}


class RepoIn(BaseModel):
    owner: str
    name: str
    files: dict[str, str] = {}
    source_dir: str | None = None
    branches: dict[str, dict[str, str | None]] = {}
    private: bool = False
    default_branch: str = "main"
    description: str | None = None
    owner_type: str = "Organization"


@router.post("/repos", status_code=201)
def admin_create_repo(request: Request, body: RepoIn) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    files: dict[str, Any] = dict(body.files)
    if body.source_dir:
        files |= files_from_dir(Path(body.source_dir))
    repo = create_repo(
        sandbox,
        body.owner,
        body.name,
        files=files,
        branches=body.branches,
        private=body.private,
        default_branch=body.default_branch,
        description=body.description,
        owner_type=body.owner_type,
    )
    return repository_payload(sandbox, repo)


def _repo(sandbox: Sandbox, owner: str, name: str) -> Record:
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise not_found()
    return repo


class MergeSettingsIn(BaseModel):
    allow_merge_commit: bool | None = None
    allow_squash_merge: bool | None = None
    allow_rebase_merge: bool | None = None


@router.patch("/repos/{owner}/{name}")
def admin_merge_settings(
    request: Request, owner: str, name: str, body: MergeSettingsIn
) -> dict[str, Any]:
    """The merge methods a repository allows (as its admin would set them in Settings)."""
    sandbox = sandbox_of(request)
    given = body.model_dump(exclude_none=True)
    repo = sandbox.store.update("repo", {**_repo(sandbox, owner, name), **given})
    return repository_payload(sandbox, repo)


class RoleIn(BaseModel):
    role: str


@router.put("/repos/{owner}/{name}/roles/{login}")
def admin_grant_role(
    request: Request, owner: str, name: str, login: str, body: RoleIn
) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    role = grant_role(sandbox, _repo(sandbox, owner, name), login, body.role)
    return {"login": role["login"], "role": role["role"]}


class PushIn(BaseModel):
    pusher: str
    branch: str | None = None
    files: dict[str, str | None] = {}
    message: str = "Update files"
    tags: dict[str, str] = {}
    force_sha: str | None = None
    modes: dict[str, Literal["100644", "100755", "120000"]] = {}


@router.post("/repos/{owner}/{name}/push")
def admin_push(request: Request, owner: str, name: str, body: PushIn) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, owner, name)
    if body.force_sha:
        branch = body.branch or repo["default_branch"]
        updates = [force_branch(sandbox, repo, branch, body.force_sha, body.pusher)]
    else:
        updates = push(
            sandbox,
            repo,
            body.pusher,
            branch=body.branch,
            files=body.files,
            message=body.message,
            tags=body.tags,
            modes=body.modes,
        )
    return {"updates": [{"ref": u.ref, "before": u.before, "after": u.after} for u in updates]}


class PackageIn(BaseModel):
    owner: str
    name: str
    repository: str
    tag: str
    platforms: list[str] = []
    labels: dict[str, str] = {}
    author: str | None = None


@router.post("/packages", status_code=201)
def admin_publish_package(request: Request, body: PackageIn) -> dict[str, Any]:
    """Publish a container image version; ``platforms`` (e.g. ``linux/amd64``) makes it a
    multi-platform push: one untagged version per platform, then the tagged index."""
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, body.owner, body.repository)
    versions = publish_container(
        sandbox,
        repo,
        body.name,
        body.tag,
        platforms=body.platforms,
        labels=body.labels,
        author=body.author or body.owner,
    )
    package = sandbox.store.get("package", versions[0]["package_id"]) or {}
    return {"versions": [version_json(sandbox, package, v) for v in versions]}
