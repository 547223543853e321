"""Where a person's role on a repository comes from, and the highest one that wins.

GitHub computes a repository role "after considering all sources of grants, including: repo,
teams, organization, and enterprise" (OpenAPI ``repos/get-collaborator-permission-level``).
The sources modelled here:

- the repository's owner (a user account) is ``admin``;
- a direct grant (``role`` record; the admin API's ``PUT /_sandbox/repos/{o}/{r}/roles/{login}``);
- for a repository owned by an organisation: an organisation owner (``org_member`` with role
  ``admin``) is ``admin``; any other member gets the organisation's base permission
  (``default_repository_permission`` on the organisation's ``account`` record, ``read`` when unset,
  as in OpenAPI ``orgs/update``; ``none`` gives nothing);
- a team's grant on the repository (``team_repo``), for the team's *active* members only (a
  ``pending`` membership is an invitation not yet accepted).

Only the store is read here, so ``auth`` can use it without importing the routes.
"""

from __future__ import annotations

from github_sandbox.store import Record, Store

ROLES = ("read", "triage", "write", "maintain", "admin")
BASE_PERMISSIONS = ("none", "read", "write", "admin")
DEFAULT_BASE_PERMISSION = "read"
ORG_ROLES = ("member", "admin")


def member_key(org: str, login: str) -> str:
    return f"{org}/{login}".lower()


def team_key(org: str, slug: str) -> str:
    return f"{org}/{slug}".lower()


def team_member_key(org: str, slug: str, login: str) -> str:
    return f"{org}/{slug}/{login}".lower()


def highest(roles: list[str]) -> str | None:
    """The highest of ``roles`` (admin > maintain > write > triage > read), or None."""
    ranked = [role for role in roles if role in ROLES]
    return max(ranked, key=ROLES.index) if ranked else None


def org_membership(store: Store, org: str, login: str) -> Record | None:
    """The person's membership of organisation ``org`` (None for non-members)."""
    return store.find_one("org_member", key=member_key(org, login))


def owning_org(store: Store, repo: Record) -> Record | None:
    """The organisation account that owns ``repo``, or None for a user-owned repository."""
    owner = store.find_one("account", key=repo["owner"].lower())
    return owner if owner is not None and owner["type"] == "Organization" else None


def team_roles(store: Store, repo: Record, login: str) -> list[str]:
    """Roles granted on ``repo`` to teams in which ``login`` is an active member."""
    roles = []
    for grant in store.find("team_repo", repo_id=repo["id"]):
        team = store.get("team", grant["team_id"])
        if team is None:
            continue
        member = store.find_one(
            "team_member", key=team_member_key(team["org"], team["slug"], login)
        )
        if member is not None and member.get("state", "active") == "active":
            roles.append(str(grant["role"]))
    return roles


def org_role(store: Store, repo: Record, login: str) -> str | None:
    """What membership of the owning organisation gives: owners admin, members the base."""
    org = owning_org(store, repo)
    membership = None if org is None else org_membership(store, org["login"], login)
    if org is None or membership is None:
        return None
    if membership["role"] == "admin":
        return "admin"
    base = org.get("default_repository_permission") or DEFAULT_BASE_PERMISSION
    return None if base == "none" else str(base)


def direct_role(store: Store, repo: Record, login: str) -> str | None:
    """The role granted to ``login`` on ``repo`` itself (a collaborator's grant)."""
    direct = store.find_one("role", key=login.lower(), repo_id=repo["id"])
    return None if direct is None else str(direct["role"])


def effective_role(store: Store, repo: Record, login: str) -> str | None:
    """The highest role ``login`` holds on ``repo`` from every source, or None."""
    if repo["owner"].lower() == login.lower():
        return "admin"
    sources = [direct_role(store, repo, login), org_role(store, repo, login)]
    return highest([role for role in sources if role] + team_roles(store, repo, login))
