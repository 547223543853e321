"""Sending ``synchronize`` when a pull request's head branch moves.

Every push goes through ``pushes.announce`` (Git Data API, contents API, admin pushes, merges into
a branch that is another pull request's head); ``sync_pulls`` is registered there, so the event
follows the ``push`` at once, with the real pusher as sender, as on GitHub.
"""

from __future__ import annotations

from collections.abc import Sequence

from github_sandbox.gitcore import RefUpdate
from github_sandbox.pulls_events import emit_pull_event
from github_sandbox.pulls_model import open_pulls, settling
from github_sandbox.pushes import on_ref_updates
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


@on_ref_updates
def sync_pulls(sandbox: Sandbox, repo: Record, updates: Sequence[RefUpdate], pusher: str) -> None:
    """Move ``head_sha`` of the open pull requests whose head branch one of ``updates`` moved,
    sending ``synchronize`` for each. A deleted head branch leaves the last known sha, as GitHub
    keeps it on the closed side. A moved base restarts the mergeability job (no event)."""
    moved = {u.ref.removeprefix("refs/heads/") for u in updates if u.ref.startswith("refs/heads/")}
    for pull in open_pulls(sandbox, repo):
        if pull["head"] in moved:
            _sync_head(sandbox, repo, pull, pusher)
        elif pull["base"] in moved:
            sandbox.store.update("pull", {**pull, **settling(sandbox)})


def _sync_head(sandbox: Sandbox, repo: Record, pull: Record, sender: str) -> None:
    current = sandbox.git(repo).ref_sha(f"refs/heads/{pull['head']}")
    if current is None or current == pull["head_sha"]:
        return
    before = pull["head_sha"]
    moved = sandbox.store.update("pull", {**pull, "head_sha": current, **settling(sandbox)})
    emit_pull_event(sandbox, repo, moved, "synchronize", sender, before=before, after=current)
