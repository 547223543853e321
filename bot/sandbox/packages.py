"""Container packages: publishing versions (admin) and the Packages API."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.sandbox.auth import principal_of, user_role
from bot.sandbox.errors import GitHubError
from bot.sandbox.pagination import paginated
from bot.sandbox.payloads import emit_repo_event, repository_payload, sender_payload
from bot.sandbox.payloads_packages import package_payload
from bot.sandbox.state import Sandbox, sandbox_of
from bot.sandbox.store import Record

router = APIRouter()


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256(":".join(parts).encode()).hexdigest()


def publish_container(
    sandbox: Sandbox,
    repo: Record,
    name: str,
    tag: str,
    *,
    platforms: list[str],
    labels: dict[str, str],
    author: str,
) -> list[Record]:
    """Record a pushed image (one version per platform manifest, plus the index that carries
    the tag) and send ``registry_package``/``package`` published for each, in that order."""
    owner = repo["owner"]
    package = _package(sandbox, owner, name, repo)
    now, revision = sandbox.clock.iso(), labels.get("org.opencontainers.image.revision", "")
    specs = [(p, "", False) for p in platforms] + [("index", tag, bool(platforms))]
    versions = []
    for platform, version_tag, is_index in specs:
        digest = _digest(owner, name, tag, platform, now)
        versions.append(
            sandbox.store.insert(
                "package_version",
                {
                    "package_id": package["id"],
                    "name": digest,
                    "tag": version_tag,
                    "is_index": is_index,
                    "platform": platform,
                    "labels": labels,
                    "revision": revision,
                    "config_digest": _digest(digest, "config"),
                    "author": author,
                    "created_at": now,
                },
                key=f"{owner}/{name}".lower(),
            )
        )
    sandbox.store.update("package", {**package, "updated_at": now})
    for version in versions:
        for event in ("registry_package", "package"):
            emit_repo_event(
                sandbox, repo, event, package_payload(sandbox, package, version, repo, event=event)
            )
    return versions


def _package(sandbox: Sandbox, owner: str, name: str, repo: Record) -> Record:
    key = f"{owner}/{name}".lower()
    found = sandbox.store.find_one("package", key=key)
    if found is not None:
        return found
    now = sandbox.clock.iso()
    data = {
        "owner": owner,
        "name": name,
        "repo_id": repo["id"],
        "created_at": now,
        "updated_at": now,
        "visibility": "private" if repo["private"] else "public",
    }
    return sandbox.store.insert("package", data, key=key)


def _readable_package(request: Request, owner: str, name: str) -> tuple[Sandbox, Record]:
    sandbox, principal = sandbox_of(request), principal_of(request)
    package = sandbox.store.find_one("package", key=f"{owner}/{name}".lower())
    if package is None:
        raise GitHubError(404, "Package not found.")
    repo = sandbox.store.get("repo", package["repo_id"]) or {}
    if principal.kind == "installation":
        installation = sandbox.store.get("installation", principal.installation_id or 0) or {}
        if installation.get("account", "").lower() != owner.lower():
            raise GitHubError(404, "Package not found.")
        if principal.permissions.get("packages") not in ("read", "write", "admin"):
            raise GitHubError(403, "Resource not accessible by integration")
    elif package["visibility"] == "private":
        role = user_role(sandbox.store, repo, principal.login) if principal.login else None
        if role is None:
            raise GitHubError(404, "Package not found.")
    return sandbox, package


def package_json(sandbox: Sandbox, package: Record) -> dict[str, Any]:
    owner, name = package["owner"], package["name"]
    kind = "users" if _is_user(sandbox, owner) else "orgs"
    versions = sandbox.store.find("package_version", key=f"{owner}/{name}".lower())
    repo = sandbox.store.get("repo", package["repo_id"])
    shaped: dict[str, Any] = {
        "id": package["id"],
        "name": name,
        "package_type": "container",
        "owner": sender_payload(sandbox, owner),
        "version_count": len(versions),
        "visibility": package["visibility"],
        "url": f"{sandbox.urls.api}/{kind}/{owner}/packages/container/{name}",
        "html_url": f"{sandbox.urls.html}/{kind}/{owner}/packages/container/package/{name}",
        "created_at": package["created_at"],
        "updated_at": package["updated_at"],
    }
    if repo is not None:
        shaped["repository"] = repository_payload(sandbox, repo)
    return shaped


def version_json(sandbox: Sandbox, package: Record, version: Record) -> dict[str, Any]:
    owner, name = package["owner"], package["name"]
    kind = "users" if _is_user(sandbox, owner) else "orgs"
    api = f"{sandbox.urls.api}/{kind}/{owner}/packages/container/{name}"
    html = f"{sandbox.urls.html}/{kind}/{owner}/packages/container/package/{name}"
    return {
        "id": version["id"],
        "name": version["name"],
        "url": f"{api}/versions/{version['id']}",
        "package_html_url": html,
        "html_url": f"{html}/{version['id']}",
        "created_at": version["created_at"],
        "updated_at": version["created_at"],
        "metadata": {
            "package_type": "container",
            "container": {"tags": [version["tag"]] if version["tag"] else []},
        },
    }


def _is_user(sandbox: Sandbox, login: str) -> bool:
    account = sandbox.store.find_one("account", key=login.lower())
    return account is not None and account["type"] == "User"


def _get_package(request: Request, owner: str, name: str) -> dict[str, Any]:
    sandbox, package = _readable_package(request, owner, name)
    return package_json(sandbox, package)


def _list_versions(request: Request, owner: str, name: str) -> JSONResponse:
    sandbox, package = _readable_package(request, owner, name)
    versions = sandbox.store.find("package_version", key=f"{owner}/{name}".lower())
    newest_first = list(reversed(versions))
    return paginated(request, newest_first, lambda v: version_json(sandbox, package, v))


for _scope in ("orgs", "users"):
    router.add_api_route(
        f"/{_scope}/{{owner}}/packages/container/{{name}}", _get_package, methods=["GET"]
    )
    router.add_api_route(
        f"/{_scope}/{{owner}}/packages/container/{{name}}/versions",
        _list_versions,
        methods=["GET"],
    )
