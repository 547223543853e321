"""Admin routes under ``/_sandbox/orgs/``: who belongs to an organisation and what its members
and teams may do on its repositories (records in ``orgs``; roles computed in ``grants``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from github_sandbox.admin_guard import require_admin
from github_sandbox.errors import not_found
from github_sandbox.orgs import (
    add_member,
    add_org_member,
    create_team,
    find_team,
    grant_team_repo,
    set_base_permission,
)
from github_sandbox.state import sandbox_of

router = APIRouter(prefix="/_sandbox/orgs", dependencies=[Depends(require_admin)])


class OrgSettingsIn(BaseModel):
    default_repository_permission: Literal["none", "read", "write", "admin"]


@router.patch("/{org}")
def admin_org_settings(request: Request, org: str, body: OrgSettingsIn) -> dict[str, Any]:
    """The base permission of the organisation's members (GitHub's default: ``read``)."""
    found = set_base_permission(sandbox_of(request), org, body.default_repository_permission)
    return {
        "login": found["login"],
        "default_repository_permission": body.default_repository_permission,
    }


class OrgMemberIn(BaseModel):
    role: Literal["member", "admin"] = "member"
    public: bool = False


@router.put("/{org}/members/{login}")
def admin_org_member(request: Request, org: str, login: str, body: OrgMemberIn) -> dict[str, Any]:
    """Make ``login`` a member (``admin``: an owner) of ``org``, privately unless ``public``."""
    member = add_org_member(sandbox_of(request), org, login, role=body.role, public=body.public)
    return {key: member[key] for key in ("org", "login", "role", "public")}


class TeamIn(BaseModel):
    name: str


@router.post("/{org}/teams", status_code=201)
def admin_create_team(request: Request, org: str, body: TeamIn) -> dict[str, Any]:
    team = create_team(sandbox_of(request), org, body.name)
    return {"id": team["id"], "slug": team["slug"], "name": team["name"]}


class MemberIn(BaseModel):
    role: Literal["member", "maintainer"] = "member"
    state: Literal["active", "pending"] = "active"


@router.put("/{org}/teams/{slug}/memberships/{login}")
def admin_add_member(
    request: Request, org: str, slug: str, login: str, body: MemberIn
) -> dict[str, Any]:
    """An ``active`` member (also made an organisation member), or a ``pending`` invitation."""
    sandbox = sandbox_of(request)
    member = add_member(sandbox, find_team(sandbox, org, slug), login, body.role, body.state)
    return {"login": member["login"], "role": member["role"], "state": member["state"]}


class TeamRepoIn(BaseModel):
    permission: str = "pull"


@router.put("/{org}/teams/{slug}/repos/{owner}/{name}")
def admin_team_repo(
    request: Request, org: str, slug: str, *, owner: str, name: str, body: TeamRepoIn
) -> dict[str, Any]:
    """Give the team a role on a repository: ``pull``, ``triage``, ``push``, ``maintain``,
    ``admin`` (GitHub's names) or ``read``/``write``."""
    sandbox = sandbox_of(request)
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise not_found()
    grant = grant_team_repo(sandbox, find_team(sandbox, org, slug), repo, body.permission)
    return {"team": slug, "repository": f"{repo['owner']}/{repo['name']}", "role": grant["role"]}
