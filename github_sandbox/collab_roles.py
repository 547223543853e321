"""Who may do what on a repository: role ranks, author-or-role checks and author associations.

Routes first call ``repo_access`` (which judges installation tokens by their permissions and
users by a minimum role); these helpers add GitHub's finer rules, such as "the author may edit
their own issue, others need triage".
"""

from __future__ import annotations

from fastapi import Request

from github_sandbox.auth import ROLES, principal_of, user_role
from github_sandbox.errors import GitHubError
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

# GitHub's legacy ``permission`` collapses the five roles onto three levels.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}


def role_reaches(sandbox: Sandbox, repo: Record, login: str, needed: str) -> bool:
    role = user_role(sandbox.store, repo, login)
    return role is not None and ROLES.index(role) >= ROLES.index(needed)


def require_role(sandbox: Sandbox, repo: Record, login: str, needed: str) -> None:
    """403 unless ``login`` holds at least ``needed`` on ``repo`` (for acts as a user);
    everyone may read a public repository."""
    if needed == "read" and not repo["private"]:
        return
    if not role_reaches(sandbox, repo, login, needed):
        full_name = f"{repo['owner']}/{repo['name']}"
        raise GitHubError(403, f"Permission to {full_name} denied to {login}.")


def require_author_or_role(request: Request, repo: Record, author: str, needed: str) -> None:
    """Users may change what they wrote; changing others' needs ``needed``. Installations were
    already judged by their token's permissions in ``repo_access``."""
    principal = principal_of(request)
    if principal.kind != "user" or principal.login is None:
        return
    if principal.login.lower() == author.lower():
        return
    require_role(sandbox_of(request), repo, principal.login, needed)


def require_user_role(request: Request, repo: Record, needed: str) -> None:
    """Like ``repo_access``'s ``min_role`` but applied after a looser first check."""
    principal = principal_of(request)
    if principal.kind == "user" and principal.login is not None:
        require_role(sandbox_of(request), repo, principal.login, needed)


def author_association(sandbox: Sandbox, repo: Record, login: str) -> str:
    if login.lower() == repo["owner"].lower():
        return "OWNER"
    role = user_role(sandbox.store, repo, login)
    return "NONE" if role is None else "COLLABORATOR"
