"""Plain HTML pages for people at the ``html_url`` addresses the API hands out: the index of
repositories, a repository (branches, files at a ref, open pull requests and issues), a pull
request (body, merge state, check runs, diff, comments), an issue, a commit, and the targets of
the links promotion PR bodies carry: a comparison (``/OWNER/REPO/compare/BASE...HEAD``) and a
release (``/OWNER/REPO/releases/tag/TAG``).

Bodies, comments, release notes and check-run summaries are Markdown, shown as GitHub shows
them (``pages_markdown``). These pages show everything in the sandbox without credentials: it is
a local test server.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from github_sandbox.diffs import parse_diff
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.issues_model import find_issue
from github_sandbox.pages_html import (
    badge,
    diff,
    items,
    link,
    page,
    section,
    text,
)
from github_sandbox.pages_markdown import render_markdown
from github_sandbox.pulls_git import is_mergeable, pull_files
from github_sandbox.pulls_model import base_sha_of, find_pull
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter()


def _repo(sandbox: Sandbox, owner: str, name: str) -> Record:
    repo = sandbox.repo_by_name(owner, name)
    if repo is None:
        raise not_found()
    return repo


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> str:
    repos = sandbox_of(request).store.find("repo")
    names = [f"{r['owner']}/{r['name']}" for r in repos]
    return page("Repositories", items((link(f"/{n}", n) for n in names), "no repositories"))


def _issue_links(sandbox: Sandbox, repo: Record, *, pulls: bool) -> str:
    base = f"/{repo['owner']}/{repo['name']}/{'pull' if pulls else 'issues'}"
    found = [
        i
        for i in sandbox.store.find("issue", repo_id=repo["id"])
        if i["state"] == "open" and i["is_pull"] == pulls
    ]
    return items(link(f"{base}/{i['number']}", f"#{i['number']} {i['title']}") for i in found)


@router.get("/{owner}/{name}", response_class=HTMLResponse)
def repository(request: Request, owner: str, name: str, ref: str | None = None) -> str:
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, owner, name)
    git = sandbox.git(repo)
    shown = ref or repo["default_branch"]
    branches = [r[0].removeprefix("refs/heads/") for r in git.refs("refs/heads/")]
    tree = git.resolve_tree(shown)
    files = [e.path for e in git.ls_tree(tree, recursive=True) if e.type == "blob"] if tree else []
    here = f"/{repo['owner']}/{repo['name']}"
    return page(
        f"{repo['owner']}/{repo['name']}",
        section("Branches", items(link(f"{here}?ref={b}", b) for b in branches)),
        section(f"Files at {shown}", items(map(text, files), "no files")),
        section("Open pull requests", _issue_links(sandbox, repo, pulls=True)),
        section("Open issues", _issue_links(sandbox, repo, pulls=False)),
    )


def _comments(sandbox: Sandbox, repo: Record, number: int) -> str:
    """Each comment under the anchor its ``html_url`` ends with (``#issuecomment-ID``)."""
    found = sandbox.store.find("comment", key=str(number), repo_id=repo["id"])
    return items(
        (
            f"<div id='issuecomment-{int(c['id'])}'>{badge(c['user'])} {text(c['created_at'])}"
            f"{render_markdown(c['body'])}</div>"
            for c in found
        ),
        "no comments",
    )


def _merge_state(sandbox: Sandbox, repo: Record, pull: Record) -> str:
    if pull["merged"]:
        return badge(f"merged by {pull['merged_by']} as {pull['merge_commit_sha'][:12]}")
    if pull["state"] != "open":
        return badge("closed")
    git = sandbox.git(repo)
    clean = is_mergeable(git, base_sha_of(sandbox, repo, pull), pull["head_sha"])
    return badge("ready to merge" if clean else "has conflicts")


def _check_runs(sandbox: Sandbox, repo: Record, head_sha: str) -> str:
    runs = sandbox.store.find("check_run", key=head_sha, repo_id=repo["id"])
    return items(
        (
            f"{badge(run['name'])} {badge(run['conclusion'] or run['status'])}"
            f"{render_markdown((run['output'] or {}).get('summary'))}"
            for run in runs
        ),
        "no check runs",
    )


@router.get("/{owner}/{name}/pull/{number}", response_class=HTMLResponse)
def pull_page(request: Request, owner: str, name: str, number: int) -> str:
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, owner, name)
    pull = find_pull(sandbox, repo, number)
    issue = find_issue(sandbox, repo, number)
    files = pull_files(sandbox.git(repo), base_sha_of(sandbox, repo, pull), pull["head_sha"])
    return page(
        f"#{number} {issue['title']}",
        f"<p>{badge(pull['head'])} into {badge(pull['base'])} by {badge(issue['user'])}</p>",
        render_markdown(issue["body"]),
        section("Merge state", _merge_state(sandbox, repo, pull)),
        section("Checks", _check_runs(sandbox, repo, pull["head_sha"])),
        section("Files changed", "".join(diff(f.filename, f.status, f.patch) for f in files)),
        section("Comments", _comments(sandbox, repo, number)),
    )


@router.get("/{owner}/{name}/issues/{number}", response_class=HTMLResponse)
def issue_page(request: Request, owner: str, name: str, number: int) -> str:
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, owner, name)
    issue = find_issue(sandbox, repo, number)
    labels = " ".join(badge(label) for label in issue["labels"])
    return page(
        f"#{number} {issue['title']}",
        f"<p>{badge(issue['state'])} by {badge(issue['user'])} {labels}</p>",
        render_markdown(issue["body"]),
        section("Comments", _comments(sandbox, repo, number)),
    )


@router.get("/{owner}/{name}/compare/{basehead:path}", response_class=HTMLResponse)
def compare_page(request: Request, owner: str, name: str, basehead: str) -> str:
    sandbox = sandbox_of(request)
    git = sandbox.git(_repo(sandbox, owner, name))
    base_name, sep, head_name = basehead.partition("...")
    base, head = git.resolve_commit(base_name), git.resolve_commit(head_name)
    merge_base = git.merge_base(base, head) if sep and base and head else None
    if base is None or head is None or merge_base is None:
        raise GitHubError(404, f"nothing to compare basehead={basehead}")
    ahead, behind = git.ahead_behind(base, head)
    commits = reversed(git.log([f"{base}..{head}"], max_count=250))
    files = parse_diff(git.diff(merge_base, head))
    return page(
        f"Comparing {base_name}...{head_name}",
        f"<p>{badge(f'{ahead} ahead')} {badge(f'{behind} behind')}</p>",
        section(
            "Commits",
            items((f"{badge(c.sha[:7])} {text(c.message)}" for c in commits), "no commits"),
        ),
        section("Files changed", "".join(diff(f.filename, f.status, f.patch) for f in files)),
    )


@router.get("/{owner}/{name}/commit/{sha}", response_class=HTMLResponse)
def commit_page(request: Request, owner: str, name: str, sha: str) -> str:
    sandbox = sandbox_of(request)
    git = sandbox.git(_repo(sandbox, owner, name))
    resolved = git.resolve_commit(sha)
    commit = git.commit(resolved) if resolved else None
    if commit is None:
        raise GitHubError(404, f"no commit sha={sha}")
    subject, _, rest = commit.message.partition("\n")
    parent = commit.parents[0] if commit.parents else git.empty_tree()
    files = parse_diff(git.diff(parent, commit.sha))
    return page(
        subject,
        f"<p>{badge(commit.sha[:12])} by {badge(commit.author.name)}</p>",
        f"<pre>{text(rest.strip())}</pre>" if rest.strip() else "",
        section("Files changed", "".join(diff(f.filename, f.status, f.patch) for f in files)),
    )


@router.get("/{owner}/{name}/releases/tag/{tag:path}", response_class=HTMLResponse)
def release_page(request: Request, owner: str, name: str, tag: str) -> str:
    sandbox = sandbox_of(request)
    repo = _repo(sandbox, owner, name)
    release = next(
        (r for r in sandbox.store.find("release", repo_id=repo["id"]) if r["tag_name"] == tag),
        None,
    )
    sha = sandbox.git(repo).resolve_commit(f"refs/tags/{tag}")
    if release is None and sha is None:
        raise GitHubError(404, f"no release or tag tag={tag}")
    kind = "tag only" if release is None else "pre-release" if release["prerelease"] else "release"
    return page(
        (release or {}).get("name") or tag,
        f"<p>{badge(tag)} {badge(kind)} {badge(sha[:12] if sha else 'draft')}</p>",
        render_markdown((release or {}).get("body")),
    )
