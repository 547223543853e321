"""App endpoints: the app itself, its installations and installation access tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from github_sandbox.auth import (
    installation_repo_ids,
    principal_of,
    require_app,
    require_installation,
)
from github_sandbox.clock import iso_time
from github_sandbox.entities import issue_installation_token
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.pagination import paginated
from github_sandbox.payloads import account_record, repository_payload
from github_sandbox.shapes import app_shape, installation_shape
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter()


def installation_json(sandbox: Sandbox, installation: Record) -> dict[str, Any]:
    app = sandbox.store.get("app", installation["app_id"]) or {}
    account = account_record(sandbox, installation["account"])
    return installation_shape(sandbox.urls.api, installation, app, account)


def app_json(sandbox: Sandbox, app: Record) -> dict[str, Any]:
    owner = account_record(sandbox, app["owner"])
    count = sum(1 for i in sandbox.store.find("installation") if i["app_id"] == app["id"])
    return {**app_shape(sandbox.urls.api, app, owner), "installations_count": count}


def _own_installation(request: Request, installation_id: int) -> Record:
    app = require_app(request)
    installation = sandbox_of(request).store.get("installation", installation_id)
    if installation is None or installation["app_id"] != app["id"]:
        raise not_found()
    return installation


@router.get("/app")
def get_app(request: Request) -> dict[str, Any]:
    return app_json(sandbox_of(request), require_app(request))


@router.get("/app/installations")
def list_installations(request: Request) -> Any:
    app, sandbox = require_app(request), sandbox_of(request)
    mine = [i for i in sandbox.store.find("installation") if i["app_id"] == app["id"]]
    return paginated(request, mine, lambda i: installation_json(sandbox, i))


@router.get("/app/installations/{installation_id}")
def get_installation(request: Request, installation_id: int) -> dict[str, Any]:
    return installation_json(sandbox_of(request), _own_installation(request, installation_id))


class TokenRequest(BaseModel):
    repositories: list[str] | None = None
    repository_ids: list[int] | None = None
    permissions: dict[str, str] | None = None


@router.post("/app/installations/{installation_id}/access_tokens", status_code=201)
def create_access_token(
    request: Request, installation_id: int, body: TokenRequest | None = None
) -> dict[str, Any]:
    sandbox, installation = sandbox_of(request), _own_installation(request, installation_id)
    body = body or TokenRequest()
    visible = installation_repo_ids(sandbox.store, installation)
    wanted = set(body.repository_ids or [])
    for name in body.repositories or []:
        repo = sandbox.repo_by_name(installation["account"], name)
        if repo is None or repo["id"] not in visible:
            raise GitHubError(
                422,
                f"There is at least one repository that does not exist or is "
                f"not accessible to the parent installation. repo={name}",
            )
        wanted.add(repo["id"])
    if not wanted <= visible:
        raise GitHubError(
            422,
            "There is at least one repository that does not exist or is not "
            "accessible to the parent installation.",
        )
    narrowed = sorted(wanted) if wanted else None
    token = issue_installation_token(
        sandbox, installation, repository_ids=narrowed, permissions=body.permissions
    )
    selection = "selected" if narrowed else installation["repository_selection"]
    answer: dict[str, Any] = {
        "token": token["token"],
        "expires_at": iso_time(token["expires_at"]),
        "permissions": token["permissions"],
        "repository_selection": selection,
    }
    if narrowed:
        answer["repositories"] = [
            repository_payload(sandbox, r) for r in sandbox.store.find("repo") if r["id"] in wanted
        ]
    return answer


@router.get("/repos/{owner}/{repo}/installation")
def get_repo_installation(request: Request, owner: str, repo: str) -> dict[str, Any]:
    app, sandbox = require_app(request), sandbox_of(request)
    record = sandbox.repo_by_name(owner, repo)
    for installation in sandbox.store.find("installation"):
        if (
            record is not None
            and installation["app_id"] == app["id"]
            and record["id"] in installation_repo_ids(sandbox.store, installation)
        ):
            return installation_json(sandbox, installation)
    raise not_found()


@router.get("/installation/repositories")
def list_installation_repositories(request: Request) -> Any:
    sandbox, installation = sandbox_of(request), require_installation(request)
    visible = installation_repo_ids(sandbox.store, installation)
    narrowed = principal_of(request).repository_ids
    if narrowed is not None:
        visible &= narrowed
    repos = [r for r in sandbox.store.find("repo") if r["id"] in visible]
    return paginated(
        request,
        repos,
        lambda r: repository_payload(sandbox, r),
        wrap=lambda page: {
            "total_count": len(repos),
            "repository_selection": installation["repository_selection"],
            "repositories": page,
        },
    )
