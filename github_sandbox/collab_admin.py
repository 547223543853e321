"""Admin calls for the collaboration acts, re-exported by ``admin_client`` (use them from there)::

alice = ActAs("alice")
pr = await admin.run(alice.open_pull("acme", "env", head="feature", base="main", title="x"))
await admin.run(alice.merge("acme", "env", pr["number"], merge_method="squash"))
await admin.run(add_org_member("acme", "alice"))                   # a private member
team = await admin.run(create_team("acme", "Release Managers"))
await admin.run(grant_team_repo("acme", team["slug"], "acme", "env", "push"))
await admin.run(add_team_member("acme", team["slug"], "bob", state="pending"))  # invited only
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from github_sandbox.admin_call import Call
from github_sandbox.admin_call import as_json as _raw


@dataclass(frozen=True)
class ActAs:
    """Calls that make ``user`` act on a repository, as a person in the web UI would."""

    user: str

    def open_pull(
        self, owner: str, repo: str, *, head: str, base: str, title: str, body: str | None = None
    ) -> Call[dict[str, Any]]:
        payload = {"user": self.user, "head": head, "base": base, "title": title, "body": body}
        return Call("POST", f"/_sandbox/repos/{owner}/{repo}/pulls", _raw, payload)

    def open_issue(
        self, owner: str, repo: str, *, title: str, body: str | None = None
    ) -> Call[dict[str, Any]]:
        payload = {"user": self.user, "title": title, "body": body}
        return Call("POST", f"/_sandbox/repos/{owner}/{repo}/issues", _raw, payload)

    def comment(self, owner: str, repo: str, number: int, body: str) -> Call[dict[str, Any]]:
        path = f"/_sandbox/repos/{owner}/{repo}/issues/{number}/comments"
        return Call("POST", path, _raw, {"user": self.user, "body": body})

    def edit_body(self, owner: str, repo: str, number: int, body: str) -> Call[dict[str, Any]]:
        """Replace an issue's body as this person (how a task-list box is ticked)."""
        path = f"/_sandbox/repos/{owner}/{repo}/issues/{number}/body"
        return Call("POST", path, _raw, {"user": self.user, "body": body})

    def close(self, owner: str, repo: str, number: int) -> Call[dict[str, Any]]:
        return self._state(owner, repo, number, "closed")

    def reopen(self, owner: str, repo: str, number: int) -> Call[dict[str, Any]]:
        return self._state(owner, repo, number, "open")

    def _state(self, owner: str, repo: str, number: int, state: str) -> Call[dict[str, Any]]:
        path = f"/_sandbox/repos/{owner}/{repo}/issues/{number}/state"
        return Call("POST", path, _raw, {"user": self.user, "state": state})

    def merge(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        merge_method: str = "merge",
        sha: str | None = None,
    ) -> Call[dict[str, Any]]:
        path = f"/_sandbox/repos/{owner}/{repo}/pulls/{number}/merge"
        payload = {"user": self.user, "merge_method": merge_method, "sha": sha}
        return Call("POST", path, _raw, payload)

    def approve(self, owner: str, repo: str, number: int, body: str = "") -> Call[dict[str, Any]]:
        path = f"/_sandbox/repos/{owner}/{repo}/pulls/{number}/approve"
        return Call("POST", path, _raw, {"user": self.user, "body": body})

    def click(self, owner: str, repo: str, check_run_id: int, identifier: str) -> Call[None]:
        """Press the check run button ``identifier`` (sends ``check_run`` requested_action)."""
        path = f"/_sandbox/repos/{owner}/{repo}/check-runs/{check_run_id}/request-action"
        return Call("POST", path, _raw, {"user": self.user, "identifier": identifier})


def set_base_permission(org: str, permission: str) -> Call[dict[str, Any]]:
    """The role every member of ``org`` gets on its repositories: none, read, write or admin."""
    body = {"default_repository_permission": permission}
    return Call("PATCH", f"/_sandbox/orgs/{org}", _raw, body)


def add_org_member(
    org: str, login: str, *, role: str = "member", public: bool = False
) -> Call[dict[str, Any]]:
    """Make ``login`` a member of ``org`` (``role="admin"``: an owner); private unless
    ``public``, which decides whether webhooks call them MEMBER."""
    path = f"/_sandbox/orgs/{org}/members/{login}"
    return Call("PUT", path, _raw, {"role": role, "public": public})


def create_team(org: str, name: str) -> Call[dict[str, Any]]:
    return Call("POST", f"/_sandbox/orgs/{org}/teams", _raw, {"name": name})


def add_team_member(
    org: str, slug: str, login: str, role: str = "member", *, state: str = "active"
) -> Call[dict[str, Any]]:
    """Put ``login`` on a team: ``active`` (also an organisation member) or ``pending`` (an
    invitation, which grants nothing)."""
    path = f"/_sandbox/orgs/{org}/teams/{slug}/memberships/{login}"
    return Call("PUT", path, _raw, {"role": role, "state": state})


def grant_team_repo(
    org: str, slug: str, owner: str, repo: str, permission: str = "pull"
) -> Call[dict[str, Any]]:
    """Give a team ``permission`` (pull, triage, push, maintain, admin) on ``owner/repo``."""
    path = f"/_sandbox/orgs/{org}/teams/{slug}/repos/{owner}/{repo}"
    return Call("PUT", path, _raw, {"permission": permission})
