"""Access to the real webhook payloads copied into tests/data/webhooks-intake/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "webhooks-intake"


def raw(name: str) -> bytes:
    """The payload bytes as published, e.g. ``raw("api.github.com/push/payload.json")``."""
    return (DATA / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(raw(name))
    return payload


def event_name(name: str) -> str:
    """The ``X-GitHub-Event`` header of a payload: its directory's name."""
    return Path(name).parent.name


def tagged_ghcr_push(
    tag: str = "1.4.2", root: str = "registry_package", version: str | None = None
) -> dict[str, Any]:
    """The octokit docker example turned into what GHCR sends today for a tagged push."""
    payload = copy.deepcopy(load("api.github.com/registry_package/published.docker.payload.json"))
    if root != "registry_package":
        payload[root] = payload.pop("registry_package")
    package = payload[root]
    package["package_type"] = "CONTAINER"
    package_version = package["package_version"]
    package_version["container_metadata"]["tag"]["name"] = tag
    package_version["package_url"] = f"ghcr.io/Codertocat/hello-world:{tag}"
    if version is not None:
        package_version["version"] = version
    payload["installation"] = {"id": 5, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNQ=="}
    return payload


def config_push(ref: str = "refs/heads/master", **changes: Any) -> dict[str, Any]:
    """A real push payload changed to modify ``.github/promotion.yml`` on ``ref``."""
    payload = load("api.github.com/push/with-new-branch.payload.json")
    payload["commits"][0]["modified"] = [".github/promotion.yml"]
    return payload | {"ref": ref, **changes}


def check_run_requested_action(identifier: str = "promote") -> dict[str, Any]:
    """The fields of a ``check_run`` ``requested_action`` delivery the bot reads."""
    return {
        "action": "requested_action",
        "check_run": {"id": 4, "head_sha": "abc"},
        "requested_action": {"identifier": identifier},
        "repository": {"full_name": "acme/env"},
        "installation": {"id": 3},
    }


def drift_box_ticked(old: str = "- [ ] sync", new: str = "- [x] sync") -> dict[str, Any]:
    """The fields of an ``issues`` ``edited`` delivery the bot reads: a body edit (GitHub's
    ``changes.body.from`` holds the body before it), as when a person ticks a box."""
    return {
        "action": "edited",
        "issue": {"number": 7, "body": new, "user": {"login": "promotion-bot[bot]"}},
        "changes": {"body": {"from": old}},
        "sender": {"login": "alice", "type": "User"},
        "repository": {"full_name": "acme/env"},
        "installation": {"id": 3},
    }
