"""Organisations: members (public or private), the base permission, teams, their members
(``active`` or ``pending``) and the teams' grants on repositories.

Records: ``org_member`` (key ``org/login``: ``role`` member or admin, ``public``), ``team`` (key
``org/slug``), ``team_member`` (key ``org/slug/login``: ``role`` member or maintainer, ``state``
active or pending), ``team_repo`` (repo_id, key the team id: ``role``). The organisation's base
permission is ``default_repository_permission`` on its ``account`` record. ``grants`` reads them
to compute a person's role; the admin API (``orgs_admin_api``) writes them.
"""

from __future__ import annotations

import re

from github_sandbox.entities import account
from github_sandbox.errors import not_found, validation_failed
from github_sandbox.grants import (
    BASE_PERMISSIONS,
    ORG_ROLES,
    ROLES,
    member_key,
    org_membership,
    team_key,
    team_member_key,
)
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

TEAM_ROLES = ("member", "maintainer")
TEAM_STATES = ("active", "pending")
# GitHub's names for a team's repository permission (OpenAPI
# ``teams/add-or-update-repo-permissions-in-org``) and the roles they are.
TEAM_PERMISSIONS = {"pull": "read", "triage": "triage", "push": "write", "maintain": "maintain"}


def organization(sandbox: Sandbox, org: str) -> Record:
    found = account(sandbox, org)
    if found["type"] != "Organization":
        raise validation_failed(f"not an organization login={org}", field="org")
    return found


def set_base_permission(sandbox: Sandbox, org: str, permission: str) -> Record:
    """The role every member gets on the organisation's repositories (``none`` for nothing)."""
    if permission not in BASE_PERMISSIONS:
        message = f"unknown base permission permission={permission}"
        raise validation_failed(message, field="default_repository_permission")
    found = organization(sandbox, org)
    return sandbox.store.update("account", {**found, "default_repository_permission": permission})


def add_org_member(
    sandbox: Sandbox, org: str, login: str, *, role: str = "member", public: bool = False
) -> Record:
    """Make ``login`` a member (or, with ``admin``, an owner) of ``org``; membership is private
    unless ``public``, as on GitHub where members choose to publicize it."""
    if role not in ORG_ROLES:
        raise validation_failed(f"unknown organization role role={role}", field="role")
    found, user = organization(sandbox, org), account(sandbox, login)
    existing = org_membership(sandbox.store, found["login"], user["login"])
    data = {"org": found["login"], "login": user["login"], "role": role, "public": public}
    if existing is not None:
        return sandbox.store.update("org_member", {**existing, **data})
    return sandbox.store.insert("org_member", data, key=member_key(found["login"], user["login"]))


def create_team(sandbox: Sandbox, org: str, name: str) -> Record:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if sandbox.store.find_one("team", key=team_key(org, slug)) is not None:
        raise validation_failed(f"team already exists org={org} slug={slug}", field="name")
    owner = organization(sandbox, org)
    data = {"org": owner["login"], "slug": slug, "name": name}
    return sandbox.store.insert("team", data, key=team_key(org, slug))


def find_team(sandbox: Sandbox, org: str, slug: str) -> Record:
    team = sandbox.store.find_one("team", key=team_key(org, slug))
    if team is None:
        raise not_found()
    return team


def team_membership(sandbox: Sandbox, team: Record, login: str) -> Record | None:
    return sandbox.store.find_one(
        "team_member", key=team_member_key(team["org"], team["slug"], login)
    )


def add_member(
    sandbox: Sandbox, team: Record, login: str, role: str, state: str = "active"
) -> Record:
    """Put ``login`` on ``team``. ``active`` also makes them a (private) member of the
    organisation if they were not one, since GitHub's team members are organisation members;
    ``pending`` is an invitation not yet accepted: no membership, no team grants."""
    if role not in TEAM_ROLES:
        raise validation_failed(f"unknown team role role={role}", field="role")
    if state not in TEAM_STATES:
        raise validation_failed(f"unknown membership state state={state}", field="state")
    user = account(sandbox, login)
    if state == "active" and org_membership(sandbox.store, team["org"], user["login"]) is None:
        add_org_member(sandbox, team["org"], user["login"])
    existing = team_membership(sandbox, team, user["login"])
    data = {"team_id": team["id"], "login": user["login"], "role": role, "state": state}
    if existing is not None:
        return sandbox.store.update("team_member", {**existing, **data})
    key = team_member_key(team["org"], team["slug"], user["login"])
    return sandbox.store.insert("team_member", data, key=key)


def grant_team_repo(sandbox: Sandbox, team: Record, repo: Record, permission: str) -> Record:
    """Give ``team`` a role on ``repo`` (GitHub's ``pull``/``push``/... or a role name)."""
    role = TEAM_PERMISSIONS.get(permission, permission)
    if role not in ROLES:
        raise validation_failed(f"unknown permission permission={permission}", field="permission")
    if repo["owner"].lower() != team["org"].lower():
        message = f"repository not owned by the team's organization repo={repo['name']}"
        raise validation_failed(message, field="repo")
    existing = sandbox.store.find_one("team_repo", key=str(team["id"]), repo_id=repo["id"])
    data = {"team_id": team["id"], "role": role}
    if existing is not None:
        return sandbox.store.update("team_repo", {**existing, **data})
    return sandbox.store.insert("team_repo", data, repo_id=repo["id"], key=str(team["id"]))
