"""Container packages: publishing versions (admin) and the Packages API."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from github_sandbox.auth import Principal, principal_of, user_role
from github_sandbox.errors import GitHubError
from github_sandbox.pagination import paginated
from github_sandbox.payloads import emit_repo_event, repository_payload, sender_payload
from github_sandbox.payloads_packages import package_payload
from github_sandbox.state import Sandbox, sandbox_of
from github_sandbox.store import Record

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
    # Labels live in the image config, which the manifest names by digest: a rebuild with
    # other labels is another digest even within the clock's second.
    built = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    versions = []
    for platform, version_tag, is_index in specs:
        digest = _digest(owner, name, tag, platform, now, built)
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


def _denial(sandbox: Sandbox, principal: Principal, package: Record) -> GitHubError | None:
    """Why ``principal`` may not read ``package`` (404 hides it, 403 lacks permission)."""
    hidden = GitHubError(404, "Package not found.")
    if principal.kind == "installation":
        installation = sandbox.store.get("installation", principal.installation_id or 0) or {}
        if installation.get("account", "").lower() != package["owner"].lower():
            return hidden
        return _permission_denial(principal)
    if package["visibility"] == "private":
        repo = sandbox.store.get("repo", package["repo_id"]) or {}
        role = user_role(sandbox.store, repo, principal.login) if principal.login else None
        if role is None:
            return hidden
    return None


def _permission_denial(principal: Principal) -> GitHubError | None:
    granted = principal.permissions.get("packages")
    if principal.kind == "installation" and granted not in ("read", "write", "admin"):
        return GitHubError(403, "Resource not accessible by integration")
    return None


def _readable_package(request: Request, owner: str, name: str) -> tuple[Sandbox, Record]:
    sandbox = sandbox_of(request)
    package = sandbox.store.find_one("package", key=f"{owner}/{name}".lower())
    if package is None:
        raise GitHubError(404, "Package not found.")
    denial = _denial(sandbox, principal_of(request), package)
    if denial is not None:
        raise denial
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


PackageType = Literal["npm", "maven", "rubygems", "docker", "nuget", "container"]


def _list_packages(
    request: Request,
    owner: str,
    package_type: PackageType,
    visibility: Literal["public", "private", "internal"] | None = None,
) -> JSONResponse:
    """The owner's packages the caller may read; only container packages exist here, and
    ``internal`` means ``private`` for them, as on GitHub."""
    sandbox, principal = sandbox_of(request), principal_of(request)
    wanted = {"internal": "private"}.get(visibility or "", visibility)
    denial = _permission_denial(principal)
    if denial is not None:
        raise denial
    readable = [
        package
        for package in sandbox.store.find("package")
        if package["owner"].lower() == owner.lower()
        and package_type == "container"
        and wanted in (None, package["visibility"])
        and _denial(sandbox, principal, package) is None
    ]
    return paginated(request, readable, lambda p: package_json(sandbox, p))


def _get_version(request: Request, owner: str, name: str, version_id: int) -> dict[str, Any]:
    sandbox, package = _readable_package(request, owner, name)
    version = sandbox.store.get("package_version", version_id)
    if version is None or version["package_id"] != package["id"]:
        raise GitHubError(404, "Package version not found.")
    return version_json(sandbox, package, version)


for _scope in ("orgs", "users"):
    _prefix = f"/{_scope}/{{owner}}/packages"
    router.add_api_route(_prefix, _list_packages, methods=["GET"])
    router.add_api_route(f"{_prefix}/container/{{name}}", _get_package, methods=["GET"])
    router.add_api_route(f"{_prefix}/container/{{name}}/versions", _list_versions, methods=["GET"])
    router.add_api_route(
        f"{_prefix}/container/{{name}}/versions/{{version_id}}", _get_version, methods=["GET"]
    )
