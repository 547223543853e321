"""Core events: stable keys and a JSON round trip for every event type."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.inputs.events import (
    BaseEvent,
    CheckActionRequested,
    CommentCreated,
    ConfigPushed,
    ImagePushed,
    InstallationChanged,
    IssueEdited,
    PassDue,
    PullChanged,
    PullClosed,
    ReleasePublished,
    TagCreated,
    event_from_json,
    event_to_json,
)
from tests.event_types import event_types

SAMPLES: list[BaseEvent] = [
    ImagePushed(
        registry="ghcr.io",
        repository="acme/api",
        tag="1.2.3",
        digest="sha256:ab",
        source_repo="acme/api",
        installation_id=7,
        delivery_id="d1",
    ),
    TagCreated(repo="acme/api", tag="v1.2.3", installation_id=7, delivery_id="d2"),
    ReleasePublished(repo="acme/api", tag="v1.2.3", prerelease=True, delivery_id="d3"),
    PullClosed(
        repo="acme/env", number=4, merged=True, head_ref="promote/x", base_ref="main", body="b"
    ),
    PullChanged(repo="acme/env", number=4, action="synchronize", head_sha="abc"),
    CommentCreated(
        repo="acme/env", issue_number=4, is_pull=True, author="ann", body="/promote", comment_id=9
    ),
    ConfigPushed(repo="acme/env", ref="refs/heads/main", after="def"),
    CheckActionRequested(repo="acme/env", identifier="promote", head_sha="abc"),
    InstallationChanged(action="created", account="acme", repositories_added=("acme/env",)),
    IssueEdited(
        repo="acme/env", number=7, issue_author="bot", editor="ann", body="- [x]", old_body="- [ ]"
    ),
    PassDue(task="reconcile", slot=datetime(2026, 12, 6, 11, tzinfo=UTC), installation_id=7),
]


def test_every_event_type_has_a_sample() -> None:
    assert {type(e) for e in SAMPLES} == set(event_types())


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_json_round_trip(event: BaseEvent) -> None:
    assert event_from_json(event_to_json(event)) == event


@pytest.mark.parametrize(
    ("event", "dedupe", "coalesce", "serial"),
    [
        (
            SAMPLES[0],
            "image:ghcr.io/acme/api:1.2.3@sha256:ab",
            "image:7:ghcr.io/acme/api",
            "installation:7",
        ),
        (SAMPLES[1], "tag:acme/api:v1.2.3", None, "installation:7"),
        (SAMPLES[2], "release:acme/api:v1.2.3:True", None, "installation:None"),
        # A review and a config check write no promotion branch: their repository's key.
        (SAMPLES[4], "PullChanged:", "pull-changed:None:acme/env#4", "acme/env"),
        (SAMPLES[5], "comment:acme/env:9", None, "installation:None"),
        (SAMPLES[6], "config:acme/env@def", "config:None:acme/env", "acme/env"),
        (SAMPLES[8], "InstallationChanged:", None, "installation:None"),
        (SAMPLES[-1], "PassDue:reconcile:7:2026-12-06T11:00:00+00:00", None, "installation:7"),
    ],
)
def test_keys(event: BaseEvent, dedupe: str, coalesce: str | None, serial: str) -> None:
    assert (event.dedupe_key, event.coalesce_key, event.serial_key) == (dedupe, coalesce, serial)


def test_per_platform_manifests_of_one_push_share_a_dedupe_key() -> None:
    first = ImagePushed(
        registry="ghcr.io", repository="a/b", tag="1", digest="sha256:i", delivery_id="x"
    )
    second = first.model_copy(update={"delivery_id": "y"})
    assert first.dedupe_key == second.dedupe_key


def test_image_without_registry_and_without_source_repo() -> None:
    """A push no installation names is keyed by what was pushed."""
    event = ImagePushed(registry="", repository="local/app", tag="1")
    assert (event.image, event.serial_key, event.dedupe_key) == (
        "local/app",
        "local/app",
        "image:local/app:1@-",
    )


def test_events_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        TagCreated(repo="a/b", tag="v1").tag = "v2"  # type: ignore[misc]


@pytest.mark.parametrize("text", ['{"kind": "nope"}', "[]", '{"kind": "tag_created"}'])
def test_bad_documents_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        event_from_json(text)
