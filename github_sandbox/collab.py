"""Collaborator permission and team membership routes, and the team records behind them.

Teams are ``team`` records (key ``org/slug``); members are ``team_member`` records (key
``org/slug/login``, role ``member`` or ``maintainer``), created through the admin API.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from github_sandbox.auth import ROLES, principal_of, repo_access, user_role
from github_sandbox.collab_roles import LEGACY_PERMISSION
from github_sandbox.entities import account
from github_sandbox.errors import GitHubError, not_found, validation_failed
from github_sandbox.issues_model import person
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter()

TEAM_ROLES = ("member", "maintainer")


def create_team(sandbox: Sandbox, org: str, name: str) -> Record:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    key = f"{org}/{slug}".lower()
    if sandbox.store.find_one("team", key=key) is not None:
        raise validation_failed(f"team already exists org={org} slug={slug}", field="name")
    owner = account(sandbox, org)
    data = {"org": owner["login"], "slug": slug, "name": name}
    return sandbox.store.insert("team", data, key=key)


def find_team(sandbox: Sandbox, org: str, slug: str) -> Record:
    team = sandbox.store.find_one("team", key=f"{org}/{slug}".lower())
    if team is None:
        raise not_found()
    return team


def add_member(sandbox: Sandbox, team: Record, login: str, role: str) -> Record:
    if role not in TEAM_ROLES:
        raise validation_failed(f"unknown team role role={role}", field="role")
    user = account(sandbox, login)
    key = f"{team['org']}/{team['slug']}/{login}".lower()
    existing = sandbox.store.find_one("team_member", key=key)
    if existing is not None:
        return sandbox.store.update("team_member", {**existing, "role": role})
    data = {"team_id": team["id"], "login": user["login"], "role": role}
    return sandbox.store.insert("team_member", data, key=key)


@router.get("/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(
    request: Request, owner: str, repo: str, username: str
) -> dict[str, Any]:
    record = repo_access(request, owner, repo, "metadata", "read")
    sandbox = sandbox_of(request)
    user = account(sandbox, username)
    role = user_role(sandbox.store, record, user["login"])
    permission = LEGACY_PERMISSION.get(role or "", "none")
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
    return {"permission": permission, "role_name": role or "none", "user": collaborator}


@router.get("/orgs/{org}/teams/{team_slug}/memberships/{username}")
def team_membership(request: Request, org: str, team_slug: str, username: str) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    _check_members_access(request, org)
    team = find_team(sandbox, org, team_slug)
    member = sandbox.store.find_one("team_member", key=f"{org}/{team_slug}/{username}".lower())
    if member is None:
        raise not_found()
    url = f"{sandbox.urls.api}/teams/{team['id']}/memberships/{member['login']}"
    return {"url": url, "role": member["role"], "state": "active"}


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
