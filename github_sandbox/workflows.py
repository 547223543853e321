"""GitHub's guard on workflow files: an App's installation token without the ``workflows``
permission may not create or update ``.github/workflows/*`` through a ref change.

GitHub answers such a push "refusing to allow a GitHub App to create or update workflow
`.github/workflows/NAME` without `workflows` permission" (the message users report from ``git
push`` and from ``PUT pulls/{n}/update-branch``, which answers 403; GitHub documents the
``workflows`` permission as "Workflows: write" for changing workflow files). Reports include
branch updates that only bring in a workflow change from the base, so the sandbox judges the
ref change itself, the strictest reading:

- moving a ref: the workflow files at the old tip against those at the new tip;
- creating a ref: each commit that no existing ref reaches, against its first parent.

Users (pushes through the admin API, personal tokens) are not judged: the guard is for Apps.
"""

from __future__ import annotations

from fastapi import Request

from github_sandbox.auth import principal_of
from github_sandbox.errors import GitHubError
from github_sandbox.gitcore import run_git
from github_sandbox.gitrepo import GitRepo

WORKFLOWS = ".github/workflows/"
_DOCS = "https://docs.github.com/rest/git/refs"


def check_workflow_change(request: Request, git: GitRepo, old: str | None, new: str) -> None:
    """Raise GitHub's 403 when the caller is an installation without ``workflows: write`` and
    moving the ref from ``old`` (``None``: creating it) to ``new`` changes a workflow file."""
    principal = principal_of(request)
    if principal.kind != "installation" or principal.permissions.get("workflows") == "write":
        return
    changed = workflow_changes(git, old, new)
    if changed:
        raise GitHubError(
            403,
            f"refusing to allow a GitHub App to create or update workflow `{changed[0]}` "
            "without `workflows` permission",
            documentation_url=_DOCS,
        )


def workflow_changes(git: GitRepo, old: str | None, new: str) -> list[str]:
    """The workflow files a ref change from ``old`` to ``new`` creates, updates or deletes."""
    if old is not None:
        args = ["diff", "--name-only", "-z", old, new, "--", WORKFLOWS]
    else:
        # Commits new to the repository (no ref reaches them), each against its first parent.
        args = ["log", "--format=", "--name-only", "-z", "-m", "--first-parent", new, "--not"]
        args += ["--all", "--", WORKFLOWS]
    out = run_git(git.path, args).stdout.decode(errors="replace")
    return sorted({path for path in out.replace("\n", "\x00").split("\x00") if path})
