"""Collaborator permission and team membership routes.

The records behind them (organisation members, teams, team members and team grants) live in
``orgs``; the role arithmetic in ``grants``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from github_sandbox.auth import principal_of, repo_access, user_role
from github_sandbox.collab_roles import LEGACY_PERMISSION
from github_sandbox.entities import account
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.grants import ROLES
from github_sandbox.issues_model import person
from github_sandbox.orgs import find_team, team_membership
from github_sandbox.state import sandbox_of

router = APIRouter()


@router.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(
    request: Request, owner: str, repo: str, username: str
) -> dict[str, Any]:
    """OpenAPI ``repos/get-collaborator-permission-level``: the highest role "after considering
    all sources of grants" (repo, teams, organization). Anyone may read a public repository, so
    everyone holds at least ``read`` there; on a private one a person without a grant gets
    ``none`` (a documented value of ``permission``); 404 is for unknown users and repositories."""
    record = repo_access(request, owner, repo, "metadata", "read")
    sandbox = sandbox_of(request)
    user = account(sandbox, username)
    role = user_role(sandbox.store, record, user["login"])
    if role is None and not record["private"]:
        role = "read"
    rank = ROLES.index(role) if role else -1
    granted = {level: rank >= ROLES.index(level) for level in ROLES}
    collaborator = {
        **person(sandbox, user["login"]),
        "permissions": {
            "pull": granted["read"],
            "triage": granted["triage"],
            "push": granted["write"],
            "maintain": granted["maintain"],
            "admin": granted["admin"],
        },
        "role_name": role or "none",
    }
    permission = LEGACY_PERMISSION.get(role or "", "none")
    return {"permission": permission, "role_name": role or "none", "user": collaborator}


@router.get("/orgs/{org}/teams/{team_slug}/memberships/{username}")
def get_team_membership(
    request: Request, org: str, team_slug: str, username: str
) -> dict[str, Any]:
    """OpenAPI ``teams/get-membership-for-user-in-org``: ``state`` is ``active`` or ``pending``
    (invited, not yet a member); 404 "if user has no team membership"."""
    sandbox = sandbox_of(request)
    _check_members_access(request, org)
    team = find_team(sandbox, org, team_slug)
    member = team_membership(sandbox, team, username)
    if member is None:
        raise not_found()
    url = f"{sandbox.urls.api}/teams/{team['id']}/memberships/{member['login']}"
    return {"url": url, "role": member["role"], "state": member.get("state", "active")}


def _check_members_access(request: Request, org: str) -> None:
    """Installations need ``members: read`` on that org; users must be signed in."""
    principal = principal_of(request)
    if principal.kind == "anonymous":
        raise GitHubError(401, "Requires authentication")
    if principal.kind == "app":
        raise not_found()
    if principal.kind == "installation":
        installation = sandbox_of(request).store.get("installation", principal.installation_id or 0)
        if installation is None or installation["account"].lower() != org.lower():
            raise not_found()
        if principal.permissions.get("members") not in ("read", "write"):
            raise GitHubError(403, "Resource not accessible by integration")
