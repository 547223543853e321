"""Shared webhook payload parts and the one call that sends a repository event.

``emit_repo_event(sandbox, repo, event, payload)`` adds ``installation`` and sends the payload
to every installation that covers ``repo``; ``base_payload`` gives the ``repository``,
``sender`` and (for org-owned repos) ``organization`` every repository event carries.
"""

from __future__ import annotations

from typing import Any

from github_sandbox.auth import installation_repo_ids
from github_sandbox.shapes import node_id, repository_shape, user_shape
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def account_record(sandbox: Sandbox, login: str) -> Record:
    found = sandbox.store.find_one("account", key=login.lower())
    if found is None:
        raise KeyError(f"building payload for unknown account login={login}")
    return found


def repository_payload(sandbox: Sandbox, repo: Record) -> dict[str, Any]:
    return repository_shape(sandbox.urls.api, repo, account_record(sandbox, repo["owner"]))


def sender_payload(sandbox: Sandbox, login: str) -> dict[str, Any]:
    return user_shape(sandbox.urls.api, account_record(sandbox, login))


def organization_payload(sandbox: Sandbox, org: Record) -> dict[str, Any]:
    api, login = sandbox.urls.api, org["login"]
    url = f"{api}/orgs/{login}"
    return {
        "login": login,
        "id": org["id"],
        "node_id": node_id("Organization", org["id"]),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{api}/avatars/{login}",
        "description": None,
    }


def base_payload(sandbox: Sandbox, repo: Record, sender: str) -> dict[str, Any]:
    payload = {
        "repository": repository_payload(sandbox, repo),
        "sender": sender_payload(sandbox, sender),
    }
    owner = account_record(sandbox, repo["owner"])
    if owner["type"] == "Organization":
        payload["organization"] = organization_payload(sandbox, owner)
    return payload


def installations_for_repo(sandbox: Sandbox, repo: Record) -> list[Record]:
    return [
        installation
        for installation in sandbox.store.find("installation")
        if repo["id"] in installation_repo_ids(sandbox.store, installation)
    ]


def installation_ref(installation: Record) -> dict[str, Any]:
    """The ``installation`` object of an app delivery: id and node id."""
    return {"id": installation["id"], "node_id": node_id("Installation", installation["id"])}


def emit_repo_event(
    sandbox: Sandbox, repo: Record, event: str, payload: dict[str, Any]
) -> list[Record]:
    """Send ``event`` to each installation covering ``repo``; returns the deliveries queued."""
    deliveries = []
    for installation in installations_for_repo(sandbox, repo):
        full = {**payload, "installation": installation_ref(installation)}
        delivery = sandbox.webhooks.emit(event, full, installation["id"])
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries
