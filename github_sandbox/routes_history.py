"""Branches, tags, commits and comparisons."""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from github_sandbox.auth import repo_access
from github_sandbox.diffs import FileDiff, parse_diff
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.gitrepo import GitRepo
from github_sandbox.pagination import link_header, page_bounds, paginated
from github_sandbox.shapes import node_id
from github_sandbox.shapes_git import commit_shape, repo_api, repo_html
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}")


def _context(request: Request, owner: str, repo: str) -> tuple[Sandbox, Record, GitRepo]:
    record = repo_access(request, owner, repo)
    sandbox = sandbox_of(request)
    return sandbox, record, sandbox.git(record)


def _commit_ref(sandbox: Sandbox, repo: Record, sha: str) -> dict[str, Any]:
    return {"sha": sha, "url": f"{repo_api(sandbox, repo)}/commits/{sha}"}


@router.get("/branches")
def list_branches(request: Request, owner: str, repo: str) -> JSONResponse:
    sandbox, record, git = _context(request, owner, repo)
    branches = git.refs("refs/heads/")
    return paginated(
        request,
        branches,
        lambda row: {
            "name": row[0].removeprefix("refs/heads/"),
            "commit": _commit_ref(sandbox, record, row[1]),
            "protected": False,
        },
    )


@router.get("/branches/{branch:path}")
def get_branch(request: Request, owner: str, repo: str, branch: str) -> dict[str, Any]:
    sandbox, record, git = _context(request, owner, repo)
    sha = git.ref_sha(f"refs/heads/{branch}")
    commit = git.commit(sha) if sha else None
    if commit is None:
        raise GitHubError(404, "Branch not found")
    api = repo_api(sandbox, record)
    return {
        "name": branch,
        "commit": commit_shape(sandbox, record, commit),
        "_links": {
            "self": f"{api}/branches/{branch}",
            "html": f"{repo_html(sandbox, record)}/tree/{branch}",
        },
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/branches/{branch}/protection",
    }


@router.get("/tags")
def list_tags(request: Request, owner: str, repo: str) -> JSONResponse:
    sandbox, record, git = _context(request, owner, repo)
    api = repo_api(sandbox, record)
    # Newest tag names first, as GitHub lists them.
    tags = sorted(git.refs("refs/tags/"), reverse=True)
    resolved = {name: git.resolve_commit(name) or sha for name, sha, _ in tags}

    def shape(row: tuple[str, str, str]) -> dict[str, Any]:
        name = row[0].removeprefix("refs/tags/")
        return {
            "name": name,
            "commit": _commit_ref(sandbox, record, resolved[row[0]]),
            "zipball_url": f"{api}/zipball/refs/tags/{name}",
            "tarball_url": f"{api}/tarball/refs/tags/{name}",
            "node_id": node_id("Tag", zlib.crc32(row[0].encode())),
        }

    return paginated(request, tags, shape)


@router.get("/commits")
def list_commits(
    request: Request, owner: str, repo: str, sha: str | None = None, path: str | None = None
) -> JSONResponse:
    sandbox, record, git = _context(request, owner, repo)
    if git.is_empty():
        raise GitHubError(409, "Git Repository is empty.")
    start = sha or record["default_branch"]
    if git.resolve_commit(start) is None:
        raise GitHubError(404, f"No commit found for SHA: {start}")
    page, per_page = page_bounds(request)
    commits = git.log([start], path=path, max_count=per_page, skip=(page - 1) * per_page)
    total = git.count_commits([start], path=path)
    last = max((total + per_page - 1) // per_page, 1)
    headers = {"link": link_header(request, page, last)} if last > 1 else {}
    body = [commit_shape(sandbox, record, c) for c in commits]
    return JSONResponse(body, headers=headers)


@router.get("/commits/{ref:path}")
def get_commit(request: Request, owner: str, repo: str, ref: str) -> dict[str, Any]:
    sandbox, record, git = _context(request, owner, repo)
    sha = git.resolve_commit(ref)
    commit = git.commit(sha) if sha else None
    if commit is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}")
    base = commit.parents[0] if commit.parents else git.empty_tree()
    diffs = parse_diff(git.diff(base, sha or ""))
    files = [diff_entry_shape(sandbox, record, f, commit.sha) for f in diffs]
    additions = sum(f["additions"] for f in files)
    deletions = sum(f["deletions"] for f in files)
    stats = {"additions": additions, "deletions": deletions, "total": additions + deletions}
    return {**commit_shape(sandbox, record, commit), "stats": stats, "files": files}


def diff_entry_shape(sandbox: Sandbox, repo: Record, diff: FileDiff, ref: str) -> dict[str, Any]:
    """One changed file (GitHub's ``diff-entry``) as commits, comparisons and pull requests
    list them; ``ref`` is the side the blob, raw and contents links point at."""
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    shaped: dict[str, Any] = {
        "sha": diff.sha,
        "filename": diff.filename,
        "status": diff.status,
        "additions": diff.additions,
        "deletions": diff.deletions,
        "changes": diff.additions + diff.deletions,
        "blob_url": f"{html}/blob/{ref}/{diff.filename}",
        "raw_url": f"{html}/raw/{ref}/{diff.filename}",
        "contents_url": f"{api}/contents/{diff.filename}?ref={ref}",
    }
    if _shown(diff.patch):
        shaped["patch"] = diff.patch
    if diff.previous_filename:
        shaped["previous_filename"] = diff.previous_filename
    return shaped


# GitHub leaves ``patch`` out (it is not required in OpenAPI's ``diff-entry``) for binary files
# ("Diffs with binary data will have no patch property": "Get a commit") and for diffs too large
# to show; the unified diff endpoints stop at 20,000 lines.
PATCH_MAX_LINES = 20_000
PATCH_MAX_BYTES = 1 << 20


def _shown(patch: str) -> bool:
    if not patch or len(patch) > PATCH_MAX_BYTES:
        return False
    return patch.count("\n") < PATCH_MAX_LINES


@router.get("/compare/{basehead:path}")
def compare(request: Request, owner: str, repo: str, basehead: str) -> dict[str, Any]:
    sandbox, record, git = _context(request, owner, repo)
    base_name, sep, head_name = basehead.partition("...")
    base, head = git.resolve_commit(base_name), git.resolve_commit(head_name)
    if not sep or base is None or head is None:
        raise not_found()
    merge_base = git.merge_base(base, head)
    if merge_base is None:
        raise GitHubError(404, f"No common ancestor between {base_name} and {head_name}.")
    ahead, behind = git.ahead_behind(base, head)
    status = {(0, 0): "identical", (0, 1): "behind", (1, 0): "ahead"}.get(
        (min(ahead, 1), min(behind, 1)), "diverged"
    )
    commits = list(reversed(git.log([f"{base}..{head}"], max_count=250)))
    base_commit, merge_commit = git.commit(base), git.commit(merge_base)
    assert base_commit is not None and merge_commit is not None
    diffs = parse_diff(git.diff(merge_base, head))
    files = [diff_entry_shape(sandbox, record, f, head) for f in diffs]
    html = repo_html(sandbox, record)
    return {
        "url": f"{repo_api(sandbox, record)}/compare/{basehead}",
        "html_url": f"{html}/compare/{basehead}",
        "permalink_url": f"{html}/compare/{base[:7]}...{head[:7]}",
        "diff_url": f"{html}/compare/{basehead}.diff",
        "patch_url": f"{html}/compare/{basehead}.patch",
        "base_commit": commit_shape(sandbox, record, base_commit),
        "merge_base_commit": commit_shape(sandbox, record, merge_commit),
        "status": status,
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": ahead,
        "commits": [commit_shape(sandbox, record, c) for c in commits],
        "files": files,
    }
