"""Who may do what on a repository: role ranks, author-or-role checks and author associations.

Routes first call ``repo_access`` (which judges installation tokens by their permissions and
users by a minimum role); these helpers add GitHub's finer rules, such as "the author may edit
their own issue, others need triage".

``author_association`` follows GitHub's definitions (GraphQL ``CommentAuthorAssociation``, the
values of OpenAPI ``author-association``): OWNER "is the owner of the repository", MEMBER "is a
member of the organization that owns the repository", COLLABORATOR "has been invited to
collaborate on the repository", CONTRIBUTOR "has previously committed to the repository", NONE
"has no association". GitHub computes it for a reader: webhooks have none, and a reader who
cannot see a private organisation membership is not told about it, so private members show as
COLLABORATOR (a direct grant), CONTRIBUTOR or NONE in webhooks (widely reported, e.g.
actions/github-script#643 and #365; ``notes/github-facts.md``). ``sees_private`` says whether the
reader may see private memberships (``reader_sees_private``).
"""

from __future__ import annotations

from fastapi import Request

from github_sandbox.auth import principal_of, user_role
from github_sandbox.errors import GitHubError
from github_sandbox.grants import ROLES, direct_role, org_membership, owning_org
from github_sandbox.pushes import signature_for
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


def author_association(
    sandbox: Sandbox, repo: Record, login: str, *, sees_private: bool = False
) -> str:
    """How ``login`` is associated with ``repo``, as a reader who ``sees_private`` memberships
    (or not: webhooks) is told; the first that holds of OWNER, MEMBER, COLLABORATOR,
    CONTRIBUTOR (a commit on the default branch), NONE."""
    store = sandbox.store
    if login.lower() == repo["owner"].lower():
        return "OWNER"
    org = owning_org(store, repo)
    membership = None if org is None else org_membership(store, org["login"], login)
    if membership is not None and (membership["public"] or sees_private):
        return "MEMBER"
    if direct_role(store, repo, login) is not None:
        return "COLLABORATOR"
    email = signature_for(sandbox, login).email
    if sandbox.git(repo).has_author(f"refs/heads/{repo['default_branch']}", email):
        return "CONTRIBUTOR"
    return "NONE"


def reader_sees_private(request: Request, repo: Record) -> bool:
    """Whether the caller may see private memberships of the organisation owning ``repo``: its
    members, and (an inference: they may list the organisation's members) installations on it
    with ``members`` read."""
    sandbox, principal = sandbox_of(request), principal_of(request)
    if principal.kind == "user" and principal.login:
        return member_sees_private(sandbox, repo, principal.login)
    org = owning_org(sandbox.store, repo)
    if principal.kind != "installation" or org is None:
        return False
    installation = sandbox.store.get("installation", principal.installation_id or 0)
    on_org = installation is not None and installation["account"].lower() == org["login"].lower()
    return on_org and principal.permissions.get("members") in ("read", "write")


def member_sees_private(sandbox: Sandbox, repo: Record, login: str) -> bool:
    """Whether person ``login`` sees private memberships of ``repo``'s organisation (members do)."""
    org = owning_org(sandbox.store, repo)
    return org is not None and org_membership(sandbox.store, org["login"], login) is not None
