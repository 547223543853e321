"""The App manifest's subscriptions against the routing table.

Every event ``app-manifest.yml`` subscribes to must reach a handler, and every handler in the
table must be reachable from an event GitHub sends. Each GitHub event is represented by real
deliveries the bot acts on; what they translate to is looked up in the table the wiring builds
(``Services.routes``), so the test follows the code rather than a second list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bot.adapters.catalog import builtin_policies
from bot.adapters.versions_memory import VersionsInMemory
from bot.bootstrap import Services
from bot.core.inputs.events import PassDue
from bot.entrypoints.translate import TRANSLATED_EVENTS, translate
from bot.services.github_ports import GitHubPorts
from bot.services.workspace import ConfigCache
from tests.entrypoints.payloads import (
    check_run_requested_action,
    config_push,
    drift_box_ticked,
    load,
    tagged_ghcr_push,
)

MANIFEST = Path(__file__).resolve().parents[2] / "app-manifest.yml"

# Delivered to every App without a subscription (and ``package`` only to repository and
# organization hooks, never to an App).
UNSUBSCRIBED = {"installation", "installation_repositories", "package"}
# Subscribed for work that is not built yet: their deliveries are stored, queued and dropped.
# Each entry names what is missing; the list empties as it is built.
NOT_BUILT_YET: dict[str, str] = {}
# Routed events no delivery makes: the periodic passes every replica's scheduler asks for.
SCHEDULED: set[type] = {PassDue}
# GitHub event -> deliveries of it the bot acts on.
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "registry_package": [tagged_ghcr_push()],
    "package": [tagged_ghcr_push(root="package")],
    "create": [load("api.github.com/create/payload.json")],
    "release": [load("api.github.com/release/published.payload.json")],
    "push": [config_push()],
    "pull_request": [
        load("api.github.com/pull_request/opened.payload.json"),
        load("extra/pull_request/closed.merged.create-issue-branch.json"),
    ],
    "issue_comment": [load("extra/issue_comment/created.on-pull-request.atlantis.json")],
    "issues": [drift_box_ticked()],
    "check_run": [check_run_requested_action()],
    "installation": [load("api.github.com/installation/created.payload.json")],
    "installation_repositories": [
        {"action": "added", "installation": {"id": 1}, "repositories_added": []}
    ],
}


def subscribed() -> set[str]:
    return set(yaml.safe_load(MANIFEST.read_text())["default_events"])


def no_ports(installation_id: int | None) -> GitHubPorts:
    raise AssertionError("building the routing table calls no port")


def routed_types() -> set[type]:
    configs = ConfigCache(builtin_policies())
    return set(Services(no_ports, lambda: datetime.now(UTC), configs, VersionsInMemory()).routes())


def types_of(event_name: str) -> set[type]:
    return {
        type(event)
        for payload in SAMPLES[event_name]
        for event in translate(event_name, payload, "d").events
    }


def test_every_translated_event_has_samples() -> None:
    assert set(SAMPLES) == TRANSLATED_EVENTS
    for name in SAMPLES:
        assert types_of(name), f"no sample of {name} translates to an event"


def test_every_subscribed_event_reaches_a_handler() -> None:
    routed = routed_types()
    unhandled = {name for name in subscribed() if not types_of(name) <= routed}
    assert unhandled == set(NOT_BUILT_YET), f"subscribed without a handler: {sorted(unhandled)}"


def test_every_routed_event_comes_from_a_delivered_event() -> None:
    delivered = subscribed() | UNSUBSCRIBED
    reachable = set().union(*(types_of(name) for name in delivered))
    assert routed_types() - SCHEDULED <= reachable


def test_every_translated_event_is_subscribed_or_delivered_anyway() -> None:
    assert subscribed() | UNSUBSCRIBED == TRANSLATED_EVENTS
    assert set(NOT_BUILT_YET) <= subscribed()
