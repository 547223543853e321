"""Releases: create (creating the tag if needed) and read; ``release`` webhooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from github_sandbox.auth import actor_login, repo_access
from github_sandbox.errors import GitHubError, not_found
from github_sandbox.pagination import paginated
from github_sandbox.payloads import emit_repo_event, sender_payload
from github_sandbox.payloads_git import release_payload
from github_sandbox.pushes import announce, create_ref
from github_sandbox.shapes import node_id
from github_sandbox.shapes_git import repo_api, repo_html
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

router = APIRouter(prefix="/repos/{owner}/{repo}/releases")


def release_json(sandbox: Sandbox, repo: Record, release: Record) -> dict[str, Any]:
    api, html = repo_api(sandbox, repo), repo_html(sandbox, repo)
    url, tag = f"{api}/releases/{release['id']}", release["tag_name"]
    return {
        "url": url,
        "html_url": f"{html}/releases/tag/{tag}",
        "assets_url": f"{url}/assets",
        "upload_url": f"{api}/releases/{release['id']}/assets{{?name,label}}",
        "tarball_url": f"{api}/tarball/{tag}",
        "zipball_url": f"{api}/zipball/{tag}",
        "id": release["id"],
        "node_id": node_id("Release", release["id"]),
        "tag_name": tag,
        "target_commitish": release["target_commitish"],
        "name": release["name"],
        "body": release["body"],
        "draft": release["draft"],
        "prerelease": release["prerelease"],
        "created_at": release["created_at"],
        "published_at": None if release["draft"] else release["created_at"],
        "updated_at": release["created_at"],
        "immutable": False,
        "author": sender_payload(sandbox, release["author"]),
        "assets": [],
    }


class ReleaseIn(BaseModel):
    tag_name: str
    target_commitish: str | None = None
    name: str | None = None
    body: str | None = None
    draft: bool = False
    prerelease: bool = False


@router.post("", status_code=201)
def create_release(request: Request, owner: str, repo: str, body: ReleaseIn) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    record = repo_access(request, owner, repo, "contents", "write")
    if any(
        r["tag_name"] == body.tag_name for r in sandbox.store.find("release", repo_id=record["id"])
    ):
        raise GitHubError(
            422,
            "Validation Failed",
            errors=[{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
        )
    actor, git = actor_login(request), sandbox.git(record)
    target = body.target_commitish or record["default_branch"]
    if git.ref_sha(f"refs/tags/{body.tag_name}") is None and not body.draft:
        sha = git.resolve_commit(target)
        if sha is None:
            raise GitHubError(
                422,
                "Validation Failed",
                errors=[{"resource": "Release", "code": "invalid", "field": "target_commitish"}],
            )
        announce(
            sandbox, record, [create_ref(sandbox, record, f"refs/tags/{body.tag_name}", sha)], actor
        )
    release = sandbox.store.insert(
        "release",
        {
            "tag_name": body.tag_name,
            "target_commitish": target,
            "name": body.name,
            "body": body.body,
            "draft": body.draft,
            "prerelease": body.prerelease,
            "author": actor,
            "created_at": sandbox.clock.iso(),
            "repo_id": record["id"],
        },
        repo_id=record["id"],
        key=body.tag_name,
    )
    shaped = release_json(sandbox, record, release)
    actions = ["created"]
    if not body.draft:
        actions += ["published", "prereleased" if body.prerelease else "released"]
    for action in actions:
        emit_repo_event(
            sandbox, record, "release", release_payload(sandbox, record, shaped, action, actor)
        )
    return shaped


@router.get("")
def list_releases(request: Request, owner: str, repo: str) -> JSONResponse:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo)
    releases = list(reversed(sandbox.store.find("release", repo_id=record["id"])))
    return paginated(request, releases, lambda r: release_json(sandbox, record, r))


@router.get("/latest")
def latest_release(request: Request, owner: str, repo: str) -> dict[str, Any]:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo)
    published = [
        r
        for r in sandbox.store.find("release", repo_id=record["id"])
        if not r["draft"] and not r["prerelease"]
    ]
    if not published:
        raise not_found()
    return release_json(sandbox, record, published[-1])


@router.get("/tags/{tag:path}")
def release_by_tag(request: Request, owner: str, repo: str, tag: str) -> dict[str, Any]:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo)
    found = sandbox.store.find_one("release", key=tag, repo_id=record["id"])
    if found is None:
        raise not_found()
    return release_json(sandbox, record, found)


@router.get("/{release_id}")
def get_release(request: Request, owner: str, repo: str, release_id: int) -> dict[str, Any]:
    sandbox, record = sandbox_of(request), repo_access(request, owner, repo)
    found = sandbox.store.get("release", release_id)
    if found is None or found["repo_id"] != record["id"]:
        raise not_found()
    return release_json(sandbox, record, found)
