"""Git data through the Git Data API: branch heads, recursive trees, blobs by sha, and one commit
per promotion (``POST git/trees`` with inline content, ``POST git/commits``, then the ref); and
through ``GET commits``, when a path last changed on a branch."""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from bot.adapters.github_client import PER_PAGE, Session
from bot.services.github_ports import (
    REGULAR,
    SYMLINK,
    CommitRecord,
    CommitSpec,
    GitHubError,
    NotFound,
    Repository,
    Tree,
)

log = logging.getLogger("bot.github")

# A forced ref update that still answers 422 (another writer raced us) is retried this often.
REF_ATTEMPTS = 3
# GitHub's refusal of a ref change that creates or updates ``.github/workflows/*`` by an App
# without the ``workflows`` permission ("refusing to allow a GitHub App to create or update
# workflow `PATH` without `workflows` permission"; 403).
WORKFLOW_REFUSAL = re.compile(r"create or update workflow .* without `?workflows`? permission")
# GitHub's compare lists at most 300 files; a full page may have left some out.
COMPARE_FILES = 300


class GitHubInstallation:
    """``Installation``: the repositories the installation reaches, cached in its session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    async def repositories(self) -> tuple[Repository, ...]:
        if self.session.repositories is None:
            items = await self.session.rest.pages(
                "/installation/repositories",
                what="listing the installation's repositories",
                key="repositories",
            )
            self.session.repositories = tuple(
                Repository(r["full_name"], r["default_branch"], bool(r.get("archived")))
                for r in items
            )
        return self.session.repositories

    def forget_repositories(self) -> None:
        self.session.repositories = None


class GitHubGit:
    """``Git`` over one installation's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rest = session.rest

    async def branch_heads(self, repo: str) -> Mapping[str, str]:
        what = f"reading branch heads repo={repo}"
        path = f"/repos/{repo}/git/matching-refs/heads/"
        first = {"per_page": PER_PAGE, "page": 1}
        # 409: the repository is empty (GitHub's answer for git data without commits).
        response = await self.rest.call("GET", path, what=what, params=first, accept=(409,))
        refs: list[Any] = [] if response.status_code == 409 else response.json()
        if 'rel="next"' in response.headers.get("link", ""):
            refs += await self.rest.pages(path, what=what, start=2)
        if not refs:
            raise NotFound(f"{what} failed: the repository is empty")
        prefix = "refs/heads/"
        return {r["ref"].removeprefix(prefix): r["object"]["sha"] for r in refs}

    async def tree(self, repo: str, commit_sha: str) -> Tree:
        cached = self.session.trees.get(commit_sha)
        if cached is not None:
            return cached
        what = f"reading tree repo={repo} commit={commit_sha}"
        data = await self.rest.json(
            f"/repos/{repo}/git/trees/{commit_sha}", what=what, params={"recursive": "1"}
        )
        if data.get("truncated"):
            log.info("tree truncated, listing subtrees repo=%s commit=%s", repo, commit_sha)
            entries = await self._walk(repo, data["sha"], "")
        else:
            entries = _blob_entries(data["tree"], "")
        blobs = {path: entry.sha for path, entry in entries.items()}
        modes = {path: entry.mode for path, entry in entries.items() if entry.mode != REGULAR}
        sizes = {path: entry.size for path, entry in entries.items()}
        tree = Tree(commit_sha, data["sha"], blobs, modes, sizes)
        self.session.trees.put(commit_sha, tree)
        return tree

    async def _walk(self, repo: str, tree_sha: str, prefix: str) -> dict[str, _Entry]:
        what = f"reading subtree repo={repo} tree={tree_sha}"
        data = await self.rest.json(f"/repos/{repo}/git/trees/{tree_sha}", what=what)
        entries = _blob_entries(data["tree"], prefix)
        for entry in data["tree"]:
            if entry["type"] == "tree":
                entries |= await self._walk(repo, entry["sha"], f"{prefix}{entry['path']}/")
        return entries

    async def read_blobs(self, repo: str, shas: Sequence[str]) -> Mapping[str, str]:
        texts: dict[str, str] = {}
        for sha in dict.fromkeys(shas):
            data = self.session.blobs.get(sha)
            if data is None:
                data = await self._fetch_blob(repo, sha)
                self.session.blobs.put(sha, data)
            try:
                texts[sha] = data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # not text: no environment file the bot edits
        return texts

    async def _fetch_blob(self, repo: str, sha: str) -> bytes:
        what = f"reading blob repo={repo} sha={sha}"
        data = await self.rest.json(f"/repos/{repo}/git/blobs/{sha}", what=what)
        if data.get("encoding") == "base64":
            return base64.b64decode(data["content"])
        return str(data["content"]).encode()

    async def log(
        self, repo: str, branch: str, path: str, *, limit: int = 30
    ) -> tuple[CommitRecord, ...]:
        what = f"listing commits repo={repo} branch={branch} path={path}"
        params: dict[str, Any] = {"sha": branch, "per_page": limit}
        if path not in ("", "."):
            params["path"] = path
        # 409: the repository is empty.
        response = await self.rest.call(
            "GET", f"/repos/{repo}/commits", what=what, params=params, accept=(409,)
        )
        items: list[Any] = [] if response.status_code == 409 else response.json()
        return tuple(_commit_record(item) for item in items)

    async def commits_between(self, repo: str, base: str, head: str) -> tuple[CommitRecord, ...]:
        what = f"comparing repo={repo} base={base} head={head}"
        data = await self.rest.json(f"/repos/{repo}/compare/{base}...{head}", what=what)
        return tuple(_commit_record(item) for item in data.get("commits") or ())

    async def last_commit_at(self, repo: str, branch: str, path: str) -> datetime | None:
        what = f"reading last commit repo={repo} branch={branch} path={path}"
        params = {"sha": branch, "per_page": 1}
        if path not in ("", "."):
            params["path"] = path
        # 409: the repository is empty, so nothing ever touched the path.
        response = await self.rest.call(
            "GET", f"/repos/{repo}/commits", what=what, params=params, accept=(409,)
        )
        commits: list[Any] = [] if response.status_code == 409 else response.json()
        if not commits:
            return None
        return datetime.fromisoformat(commits[0]["commit"]["committer"]["date"])

    async def commit_files(self, repo: str, spec: CommitSpec) -> str:
        context = f"repo={repo} branch={spec.branch}"
        links = sorted(path for path in spec.files if spec.base.mode(path) == SYMLINK)
        if links:
            raise GitHubError(
                f"writing tree {context} refused: never writes through a symbolic link "
                f"paths={','.join(links)}"
            )
        base = spec.base
        sha = await self._commit(repo, spec, base.tree_sha, base.commit_sha, context)
        if spec.create and await self._create_ref(repo, spec.branch, sha):
            return sha
        if await self._force_ref(repo, spec.branch, sha):
            return sha
        return await self._rebuild_on_branch_base(repo, spec, context)

    async def _commit(
        self, repo: str, spec: CommitSpec, tree_sha: str, parent: str, context: str
    ) -> str:
        """One commit: ``tree_sha`` with ``spec.files`` (each keeping its mode), on ``parent``."""
        entries = [
            {"path": path, "mode": spec.base.mode(path), "type": "blob", "content": text}
            for path, text in sorted(spec.files.items())
        ]
        tree = await self.rest.call(
            "POST",
            f"/repos/{repo}/git/trees",
            what=f"writing tree {context} files={len(entries)}",
            json={"base_tree": tree_sha, "tree": entries},
        )
        commit = await self.rest.call(
            "POST",
            f"/repos/{repo}/git/commits",
            what=f"writing commit {context}",
            json={"message": spec.message, "tree": tree.json()["sha"], "parents": [parent]},
        )
        sha: str = commit.json()["sha"]
        return sha

    async def _rebuild_on_branch_base(self, repo: str, spec: CommitSpec, context: str) -> str:
        """GitHub refused to move the branch: the base brought in a workflow change the branch
        lacks, and an App without ``workflows`` may not update workflow files. The same edits
        go on the commit the branch was built on (its merge base with the base) instead, so the
        move changes only the promoted files; the PR stays behind its base, which its merge
        brings in. Only when the base changed none of the promoted files meanwhile: their new
        texts were computed from the base's head."""
        what = f"comparing branch with its base {context}"
        data = await self.rest.json(
            f"/repos/{repo}/compare/{spec.branch}...{spec.base.commit_sha}", what=what
        )
        files = data.get("files") or []
        changed = {f["filename"] for f in files} | {f.get("previous_filename") for f in files}
        clash = sorted(changed & set(spec.files))
        if clash or len(files) >= COMPARE_FILES:
            raise GitHubError(
                f"moving branch {context} refused: it would bring in a workflow change from the "
                "base (the bot has no workflows permission), and the base also changed the "
                f"promoted files paths={','.join(clash) or 'unknown'}"
            )
        merge_base = data["merge_base_commit"]
        tree_sha = merge_base["commit"]["tree"]["sha"]
        sha = await self._commit(repo, spec, tree_sha, merge_base["sha"], context)
        if not await self._force_ref(repo, spec.branch, sha):
            raise GitHubError(f"moving branch {context} refused: a workflow change on it")
        log.info("branch rebuilt on its own base %s base=%s", context, merge_base["sha"])
        return sha

    async def _create_ref(self, repo: str, branch: str, sha: str) -> bool:
        """Create the branch; ``False`` when it appeared meanwhile (GitHub answers 422)."""
        response = await self.rest.call(
            "POST",
            f"/repos/{repo}/git/refs",
            what=f"creating branch repo={repo} branch={branch}",
            json={"ref": f"refs/heads/{branch}", "sha": sha},
            accept=(422,),
        )
        if response.status_code == 422:
            log.info("branch appeared meanwhile, moving it repo=%s branch=%s", repo, branch)
            return False
        return True

    async def _force_ref(self, repo: str, branch: str, sha: str) -> bool:
        """Move the branch; ``False`` when GitHub refuses because the move would create or
        update a workflow file."""
        what = f"moving branch repo={repo} branch={branch} sha={sha}"
        for attempt in range(1, REF_ATTEMPTS + 1):
            try:
                response = await self.rest.call(
                    "PATCH",
                    f"/repos/{repo}/git/refs/heads/{branch}",
                    what=what,
                    json={"sha": sha, "force": True},
                    accept=(422,),
                )
            except GitHubError as err:
                if WORKFLOW_REFUSAL.search(str(err)):
                    log.info("ref update needs the workflows permission %s", what)
                    return False
                raise
            if response.status_code != 422:
                return True
            if "does not exist" in str(response.json().get("message", "")):
                # Deleted since the heads were read (a merged PR's branch): create it again.
                if await self._create_ref(repo, branch, sha):
                    return True
                continue
            log.warning("ref update raced, retrying %s attempt=%d", what, attempt)
        raise GitHubError(f"{what} failed: status=422 after attempts={REF_ATTEMPTS}")


def _commit_record(item: Any) -> CommitRecord:
    """A commit of GitHub's ``commit`` schema (the lists of commits and of compare)."""
    commit = item["commit"]
    login = (item.get("author") or {}).get("login")
    date = (commit.get("author") or {}).get("date")
    return CommitRecord(
        sha=item["sha"],
        author=login or (commit.get("author") or {}).get("name", ""),
        at=datetime.fromisoformat(date) if date else None,
        message=str(commit.get("message", "")).split("\n", 1)[0],
        html_url=item.get("html_url", ""),
        root=not item.get("parents"),
    )


class _Entry(NamedTuple):
    sha: str
    mode: str
    size: int


def _blob_entries(entries: Sequence[Any], prefix: str) -> dict[str, _Entry]:
    """Path -> entry of the blobs among ``entries`` (files, executables, links)."""
    return {
        f"{prefix}{e['path']}": _Entry(e["sha"], str(e.get("mode", REGULAR)), int(e.get("size", 0)))
        for e in entries
        if e["type"] == "blob"
    }
