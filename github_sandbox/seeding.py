"""Filling the sandbox from the admin API: repositories from file maps or directories, pushes
of commits and tags as a user."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from github_sandbox.entities import ensure_account
from github_sandbox.errors import validation_failed
from github_sandbox.gitcore import RefUpdate
from github_sandbox.pushes import announce, commit_files, create_ref, move_ref, signature_for
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

Files = Mapping[str, str | bytes | None]


def encode_files(files: Files) -> dict[str, bytes | None]:
    return {p: v.encode() if isinstance(v, str) else v for p, v in files.items()}


def files_from_dir(source: Path) -> dict[str, bytes | None]:
    """Every regular file under ``source``, by path relative to it (``.git`` skipped)."""
    found: dict[str, bytes | None] = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and ".git" not in relative.parts:
            found[relative.as_posix()] = path.read_bytes()
    return found


def create_repo(
    sandbox: Sandbox,
    owner: str,
    name: str,
    *,
    files: Files,
    branches: Mapping[str, Files] | None = None,
    private: bool = False,
    default_branch: str = "main",
    description: str | None = None,
    owner_type: str = "Organization",
) -> Record:
    """A repository whose default branch holds ``files``; each of ``branches`` starts from the
    default branch with its own file changes. No webhooks (the repo is created already full)."""
    if sandbox.repo_by_name(owner, name) is not None:
        raise validation_failed(f"name already exists on this account repo={owner}/{name}")
    account = ensure_account(sandbox, owner, owner_type)
    now = sandbox.clock.iso()
    repo = sandbox.store.insert(
        "repo",
        {
            "owner": account["login"],
            "name": name,
            "private": private,
            "default_branch": default_branch,
            "description": description,
            "created_at": now,
            "updated_at": now,
            "pushed_at": now,
        },
        key=f"{owner}/{name}".lower(),
    )
    sandbox.git(repo).init(default_branch)
    author = signature_for(sandbox, account["login"])
    if files:
        commit_files(
            sandbox,
            repo,
            default_branch,
            encode_files(files),
            message="Initial commit",
            author=author,
        )
    for branch, changes in (branches or {}).items():
        commit_files(
            sandbox, repo, branch, encode_files(changes), message=f"Create {branch}", author=author
        )
    return repo


def push(
    sandbox: Sandbox,
    repo: Record,
    pusher: str,
    *,
    branch: str | None = None,
    files: Files | None = None,
    message: str = "Update files",
    tags: Mapping[str, str] | None = None,
    modes: Mapping[str, str] | None = None,
) -> list[RefUpdate]:
    """Commit ``files`` (with git ``modes`` by path, ``100644`` unless named) on ``branch``
    and/or create ``tags`` (name -> branch, tag or sha) as one push by ``pusher``; sends
    ``push`` and ``create`` webhooks like GitHub."""
    updates = []
    if files:
        target = branch or repo["default_branch"]
        author = signature_for(sandbox, pusher)
        encoded = encode_files(files)
        commit = commit_files(
            sandbox, repo, target, encoded, message=message, author=author, modes=modes
        )
        updates.append(commit)
    git = sandbox.git(repo)
    for tag, target in (tags or {}).items():
        sha = git.resolve_commit(target)
        if sha is None:
            raise validation_failed(f"tag target not found tag={tag} target={target}")
        updates.append(create_ref(sandbox, repo, f"refs/tags/{tag}", sha))
    announce(sandbox, repo, updates, pusher)
    return updates


def force_branch(sandbox: Sandbox, repo: Record, branch: str, sha: str, pusher: str) -> RefUpdate:
    """Point ``branch`` at ``sha`` whatever it held (to stage races and rewrites)."""
    ref = f"refs/heads/{branch}"
    if sandbox.git(repo).ref_sha(ref) is None:
        update = create_ref(sandbox, repo, ref, sha)
    else:
        update = move_ref(sandbox, repo, ref, sha, force=True)
    announce(sandbox, repo, [update], pusher)
    return update
