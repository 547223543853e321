"""Every real webhook payload in tests/data/webhooks parses with githubkit and keeps its bytes."""

from __future__ import annotations

import copy
import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from githubkit.webhooks import parse, parse_obj
from pydantic import ValidationError

WEBHOOKS = Path(__file__).resolve().parent / "data" / "webhooks"
PAYLOADS = sorted(WEBHOOKS.glob("*.json"))
ACTIONLESS_EVENTS = frozenset({"push", "create", "ping"})


def sources() -> dict[str, dict[str, str]]:
    with (WEBHOOKS / "SOURCES.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def test_every_payload_has_a_source_row() -> None:
    assert sorted(sources()) == [path.name for path in PAYLOADS]


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
def test_payload_bytes_are_unchanged(path: Path) -> None:
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sources()[path.name]["sha256"]


LABEL_ARCHIVE = frozenset({"pull_request.labels.0.archived_by"})
RELEASE_2025 = frozenset({"release.immutable", "release.updated_at"})
COMMENT_2020 = frozenset({"comment.performed_via_github_app", "comment.reactions"})
ISSUE_2020 = frozenset({"issue.active_lock_reason", "issue.reactions"})

# githubkit 0.16.1 requires fields GitHub added after these examples were recorded (label
# archiving, immutable releases, ...). Each entry is the exact set of paths `parse` rejects, so
# a new gap, a fixed one, or an edited file all fail the test.
KNOWN_GAPS: dict[str, frozenset[str]] = {
    "installation.created.json": frozenset({"installation.app_slug"}),
    "installation.created.with-requester.json": frozenset({"installation.app_slug"}),
    "installation.deleted.json": frozenset({"installation.app_slug"}),
    "issue_comment.created.on-pull-request.json": COMMENT_2020
    | ISSUE_2020
    | {"repository.disabled"},
    "issue_comment.created.slash-command.json": COMMENT_2020
    | ISSUE_2020
    | {
        f"comment.{name}"
        for name in [
            "author_association",
            "created_at",
            "html_url",
            "id",
            "issue_url",
            "node_id",
            "updated_at",
            "url",
            "user",
        ]
    },
    "pull_request.closed.json": LABEL_ARCHIVE,
    "pull_request.closed.merged.json": frozenset({"pull_request.auto_merge"}),
    "pull_request.closed.with-organization.json": LABEL_ARCHIVE,
    "pull_request.labeled.json": LABEL_ARCHIVE
    | {
        "pull_request.labels.0.archived_at",
        "label.WebhooksLabel.archived_at",
        "label.WebhooksLabel.archived_by",
        "label.literal[<UNSET>]",
    },
    "pull_request.opened.json": LABEL_ARCHIVE,
    "pull_request.opened.with-null-body.json": LABEL_ARCHIVE,
    "pull_request.opened.with-organization.json": LABEL_ARCHIVE,
    "pull_request.reopened.json": LABEL_ARCHIVE,
    "push.tag-created.ghes-35.json": frozenset({"repository.topics", "repository.visibility"}),
    "release.created.json": RELEASE_2025,
    "release.prereleased.json": RELEASE_2025,
    "release.published.json": RELEASE_2025,
    "release.published.with-discussion-url.json": RELEASE_2025,
    "release.released.json": RELEASE_2025,
}
PARSING = [path for path in PAYLOADS if path.name not in KNOWN_GAPS]


def event_of(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.name)
def test_file_name_states_event_and_action(path: Path) -> None:
    event, second = path.name.split(".")[:2]
    action = json.loads(path.read_bytes()).get("action")
    assert action == (None if event in ACTIONLESS_EVENTS else second)


@pytest.mark.parametrize("path", PARSING, ids=lambda p: p.name)
def test_payload_parses_as_its_event(path: Path) -> None:
    parsed = parse(event_of(path), path.read_bytes())
    assert getattr(parsed, "action", None) == json.loads(path.read_bytes()).get("action")


def rejected_paths(err: ValidationError, action: str | None) -> frozenset[str]:
    """Dotted payload paths githubkit rejected, without the tagged-union branch name."""
    found = set()
    for error in err.errors():
        loc = error["loc"][1:] if error["loc"][:1] == (action,) else error["loc"]
        found.add(".".join(str(part) for part in loc))
    return frozenset(found)


@pytest.mark.parametrize("name", sorted(KNOWN_GAPS))
def test_known_gaps_are_exactly_the_listed_fields(name: str) -> None:
    path = WEBHOOKS / name
    with pytest.raises(ValidationError) as failure:
        parse(event_of(path), path.read_bytes())
    action = json.loads(path.read_bytes()).get("action")
    assert rejected_paths(failure.value, action) == KNOWN_GAPS[name]


def ghcr_container_shape(event: str, tag: str) -> dict[str, Any]:
    """Today's GHCR delivery, derived from the legacy docker example by the fields that differ."""
    legacy: dict[str, Any] = json.loads((WEBHOOKS / f"{event}.published.docker.json").read_bytes())
    payload = copy.deepcopy(legacy)
    package = payload[event]
    package["package_type"] = "CONTAINER"
    package["ecosystem"] = "CONTAINER"
    version = package["package_version"]
    version["container_metadata"]["tag"]["name"] = tag
    version["package_url"] = f"ghcr.io/codertocat/hello-world:{tag}"
    return payload


@pytest.mark.parametrize("event", ["registry_package", "package"])
def test_legacy_docker_shape_has_an_untagged_digest(event: str) -> None:
    parsed: Any = parse(event, (WEBHOOKS / f"{event}.published.docker.json").read_bytes())
    package = getattr(parsed, event)
    assert (package.package_type, package.ecosystem) == ("npm", "docker")
    assert package.package_version.container_metadata.tag.name == ""
    assert package.package_version.version.startswith("sha256:")


@pytest.mark.parametrize("event", ["registry_package", "package"])
def test_ghcr_container_shape_carries_the_tag(event: str) -> None:
    parsed: Any = parse_obj(event, ghcr_container_shape(event, "1.4.2"))
    package = getattr(parsed, event)
    assert package.package_type == "CONTAINER"
    assert package.package_version.container_metadata.tag.name == "1.4.2"
    assert package.package_version.package_url.endswith(":1.4.2")
