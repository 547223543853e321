"""Noticing that a pull request's head branch moved, and sending ``synchronize``.

The foundation's ref-update path (``pushes.announce``) has no hook yet, so pull request routes,
pages and admin acts call ``refresh_heads`` before they read; ``on_ref_updates`` is the function
that path should call after every push, to send ``synchronize`` at once with the real pusher.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.sandbox.gitcore import RefUpdate
from bot.sandbox.issues_model import find_issue
from bot.sandbox.pulls_events import emit_pull_event
from bot.sandbox.pulls_model import open_pulls
from bot.sandbox.pushes import signature_for
from bot.sandbox.state import Sandbox
from bot.sandbox.store import Record


def sync_head(sandbox: Sandbox, repo: Record, pull: Record, sender: str) -> Record:
    """``pull`` with ``head_sha`` at its branch tip; sends ``synchronize`` if it moved. A
    deleted head branch leaves the last known sha, as GitHub keeps it on the closed side."""
    if pull["state"] != "open":
        return pull
    current = sandbox.git(repo).ref_sha(f"refs/heads/{pull['head']}")
    if current is None or current == pull["head_sha"]:
        return pull
    before = pull["head_sha"]
    moved = sandbox.store.update("pull", {**pull, "head_sha": current})
    emit_pull_event(sandbox, repo, moved, "synchronize", sender, before=before, after=current)
    return moved


def refresh_heads(sandbox: Sandbox, repo: Record) -> None:
    """Sync every open pull request of ``repo``; the sender is the head committer when that is
    a known account, else the author (the pusher is not known after the fact)."""
    git = sandbox.git(repo)
    for pull in open_pulls(sandbox, repo):
        tip = git.ref_sha(f"refs/heads/{pull['head']}")
        if tip is not None and tip != pull["head_sha"]:
            sync_head(sandbox, repo, pull, _sender_for(sandbox, repo, pull, tip))


def on_ref_updates(
    sandbox: Sandbox, repo: Record, updates: Sequence[RefUpdate], pusher: str
) -> None:
    """Send ``synchronize`` for open pull requests whose head branch one of ``updates`` moved."""
    moved = {u.ref.removeprefix("refs/heads/") for u in updates if not u.deleted}
    for pull in open_pulls(sandbox, repo):
        if pull["head"] in moved:
            sync_head(sandbox, repo, pull, pusher)


def _sender_for(sandbox: Sandbox, repo: Record, pull: Record, sha: str) -> str:
    commit = sandbox.git(repo).commit(sha)
    email = commit.committer.email if commit else None
    for account in sandbox.store.find("account"):
        if email == signature_for(sandbox, account["login"]).email:
            return str(account["login"])
    return str(find_issue(sandbox, repo, pull["number"])["user"])
