"""Payloads of ``registry_package`` and ``package`` ``published`` events for container images.

A tagged multi-platform push fires one event per platform manifest (empty tag name) and one for
the index carrying the tag, as GitHub does (github/docs#22091).
"""

from __future__ import annotations

from typing import Any

from github_sandbox.payloads import base_payload, sender_payload
from github_sandbox.state import Sandbox
from github_sandbox.store import Record

INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


def _labels(version: Record) -> dict[str, Any]:
    labels = version.get("labels", {})
    return {
        "description": labels.get("org.opencontainers.image.description", ""),
        "source": labels.get("org.opencontainers.image.source", ""),
        "revision": labels.get("org.opencontainers.image.revision", ""),
        "image_url": labels.get("org.opencontainers.image.url", ""),
        "licenses": labels.get("org.opencontainers.image.licenses", ""),
        "all_labels": labels,
    }


def package_version_payload(
    sandbox: Sandbox, package: Record, version: Record, repo: Record, *, with_author: bool
) -> dict[str, Any]:
    owner, name, tag = package["owner"], package["name"], version["tag"]
    digest = version["name"]
    media_type = INDEX_MEDIA_TYPE if version["is_index"] else MANIFEST_MEDIA_TYPE
    shaped: dict[str, Any] = {
        "id": version["id"],
        "version": digest,
        "name": digest,
        "description": "",
        "summary": "",
        "body": "",
        "manifest": "",
        "html_url": f"{sandbox.urls.html}/{owner}/{repo['name']}/pkgs/container/{name}"
        f"/{version['id']}",
        "target_commitish": repo["default_branch"],
        "target_oid": version.get("revision") or "",
        "created_at": version["created_at"],
        "updated_at": version["created_at"],
        "metadata": [],
        "container_metadata": {
            "tag": {"name": tag, "digest": digest},
            "labels": _labels(version),
            "manifest": {
                "digest": digest,
                "media_type": media_type,
                "uri": f"repositories/{owner}/{name}/manifests/{digest}",
                "size": 1024,
                "config": {
                    "digest": version["config_digest"],
                    "media_type": "application/vnd.oci.image.config.v1+json",
                    "size": 512,
                },
                "layers": [],
            },
        },
        "package_files": [],
        "installation_command": f"docker pull ghcr.io/{owner}/{name}:{tag}",
        "package_url": f"ghcr.io/{owner}/{name}:{tag}",
    }
    if with_author:
        shaped["author"] = sender_payload(sandbox, version["author"])
    return shaped


def package_payload(
    sandbox: Sandbox, package: Record, version: Record, repo: Record, *, event: str
) -> dict[str, Any]:
    """``registry_package`` (``event="registry_package"``) or ``package`` published payload."""
    owner = package["owner"]
    inner = {
        "id": package["id"],
        "name": package["name"],
        "namespace": owner,
        "description": None,
        "ecosystem": "CONTAINER",
        "package_type": "CONTAINER",
        "html_url": f"{sandbox.urls.html}/orgs/{owner}/packages/container/package/"
        f"{package['name']}",
        "created_at": package["created_at"],
        "updated_at": version["created_at"],
        "owner": sender_payload(sandbox, owner),
        "package_version": package_version_payload(
            sandbox, package, version, repo, with_author=event == "registry_package"
        ),
        "registry": {
            "about_url": "https://docs.github.com/packages/learn-github-packages/about-github-packages",
            "name": "GitHub CONTAINER registry",
            "type": "CONTAINER",
            "url": f"https://CONTAINER.pkg.github.com/{owner}",
            "vendor": "GitHub Inc",
        },
    }
    return {
        "action": "published",
        event: inner,
        **base_payload(sandbox, repo, version["author"]),
    }
