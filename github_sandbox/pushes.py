"""Writing to repositories: commits from file maps, ref moves with fast-forward checks, and the
``push``/``create`` webhooks that follow every ref change (API or admin).

Modules that must react to every push (``pulls_sync`` sends ``synchronize``) register with
``on_ref_updates``; they import this module, so it cannot import them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from github_sandbox.errors import GitHubError
from github_sandbox.gitcore import RefUpdate, Signature
from github_sandbox.gitrepo import ZERO_SHA
from github_sandbox.gittree import TreeChange, write_tree
from github_sandbox.payloads import emit_repo_event
from github_sandbox.payloads_git import create_payload, push_payload
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

# GitHub sends no `create` (and no tag `push`) events when more than three tags arrive at once.
_MAX_TAG_EVENTS = 3

RefUpdateHook = Callable[[Sandbox, Record, Sequence[RefUpdate], str], None]
_REF_UPDATE_HOOKS: list[RefUpdateHook] = []


def on_ref_updates(hook: RefUpdateHook) -> RefUpdateHook:
    """Run ``hook(sandbox, repo, updates, pusher)`` after the webhooks of every push (usable as a
    decorator); registering the same function twice keeps one."""
    if hook not in _REF_UPDATE_HOOKS:
        _REF_UPDATE_HOOKS.append(hook)
    return hook


def signature_for(sandbox: Sandbox, login: str) -> Signature:
    account = sandbox.store.find_one("account", key=login.lower()) or {"id": 0}
    email = account.get("email") or f"{account['id']}+{login}@users.noreply.sandbox.localhost"
    return Signature(account.get("name") or login, email, int(sandbox.clock.now()))


def commit_files(
    sandbox: Sandbox,
    repo: Record,
    branch: str,
    files: Mapping[str, bytes | None],
    *,
    message: str,
    author: Signature,
    modes: Mapping[str, str] | None = None,
) -> RefUpdate:
    """Commit ``files`` (None deletes) on ``branch``, each with its git mode in ``modes``
    (``100644`` unless named: ``100755`` executable, ``120000`` symbolic link whose content is
    the target); a missing branch starts from the default branch (or from nothing in an empty
    repo). Returns the ref move; sends no webhook."""
    git = sandbox.git(repo)
    ref = f"refs/heads/{branch}"
    with git.lock:
        current = git.ref_sha(ref)
        parent = current or git.ref_sha(f"refs/heads/{repo['default_branch']}")
        base_tree = git.commit(parent).tree if parent else None  # type: ignore[union-attr]
        modes = modes or {}
        changes = [
            TreeChange(path, modes.get(path, "100644"), content=data)
            for path, data in files.items()
        ]
        tree = write_tree(git, base_tree, changes)
        sha = git.commit_tree(tree, [parent] if parent else [], message, author, author)
        if not git.update_ref(ref, sha, current):
            raise GitHubError(409, f"branch moved while committing ref={ref}")
    return RefUpdate(ref, current or ZERO_SHA, sha)


def create_ref(sandbox: Sandbox, repo: Record, ref: str, sha: str) -> RefUpdate:
    git = sandbox.git(repo)
    if git.object_type(sha) is None:
        raise GitHubError(422, "Object does not exist")
    with git.lock:
        if not git.update_ref(ref, sha, None):
            raise GitHubError(422, "Reference already exists")
    return RefUpdate(ref, ZERO_SHA, sha)


def move_ref(sandbox: Sandbox, repo: Record, ref: str, sha: str, *, force: bool) -> RefUpdate:
    git = sandbox.git(repo)
    if git.object_type(sha) is None:
        raise GitHubError(422, "Object does not exist")
    with git.lock:
        current = git.ref_sha(ref)
        if current is None:
            raise GitHubError(422, "Reference does not exist")
        fast_forward = git.is_ancestor(current, sha)
        if not force and not fast_forward:
            raise GitHubError(422, "Update is not a fast forward")
        if not git.update_ref(ref, sha, current):
            raise GitHubError(422, "Update is not a fast forward")
    return RefUpdate(ref, current, sha, forced=not fast_forward)


def remove_ref(sandbox: Sandbox, repo: Record, ref: str) -> RefUpdate:
    git = sandbox.git(repo)
    with git.lock:
        current = git.ref_sha(ref)
        if current is None or not git.delete_ref(ref, current):
            raise GitHubError(422, "Reference does not exist")
    return RefUpdate(ref, current, ZERO_SHA)


def announce(sandbox: Sandbox, repo: Record, updates: Sequence[RefUpdate], pusher: str) -> None:
    """Send ``push`` (and ``create`` for new refs) for ref changes made in one push, then run
    the ``on_ref_updates`` hooks."""
    sandbox.store.update("repo", {**repo, "pushed_at": sandbox.clock.iso()})
    new_tags = [u for u in updates if u.ref.startswith("refs/tags/") and u.created]
    quiet_tags = len(new_tags) > _MAX_TAG_EVENTS
    for update in updates:
        if quiet_tags and update in new_tags:
            continue
        emit_repo_event(sandbox, repo, "push", push_payload(sandbox, repo, update, pusher))
        if update.created:
            kind, name = _ref_kind(update.ref)
            payload = create_payload(sandbox, repo, name, kind, pusher)
            emit_repo_event(sandbox, repo, "create", payload)
    for hook in _REF_UPDATE_HOOKS:
        hook(sandbox, repo, updates, pusher)


def _ref_kind(ref: str) -> tuple[str, str]:
    if ref.startswith("refs/tags/"):
        return "tag", ref.removeprefix("refs/tags/")
    return "branch", ref.removeprefix("refs/heads/")
