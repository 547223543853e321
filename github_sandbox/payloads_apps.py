"""Payloads of ``installation`` and ``installation_repositories`` events, and sending them."""

from __future__ import annotations

from typing import Any

from github_sandbox.auth import installation_repo_ids
from github_sandbox.payloads import account_record, sender_payload
from github_sandbox.shapes import installation_shape, node_id
from github_sandbox.state import Sandbox
from github_sandbox.store import Record


def _repo_stub(repo: Record) -> dict[str, Any]:
    return {
        "id": repo["id"],
        "node_id": node_id("Repository", repo["id"]),
        "name": repo["name"],
        "full_name": f"{repo['owner']}/{repo['name']}",
        "private": repo["private"],
    }


def _installation_json(sandbox: Sandbox, installation: Record) -> dict[str, Any]:
    app = sandbox.store.get("app", installation["app_id"]) or {}
    account = account_record(sandbox, installation["account"])
    return installation_shape(sandbox.urls.api, installation, app, account)


def emit_installation_created(sandbox: Sandbox, installation: Record, sender: str) -> None:
    visible = installation_repo_ids(sandbox.store, installation)
    repos = [_repo_stub(r) for r in sandbox.store.find("repo") if r["id"] in visible]
    payload = {
        "action": "created",
        "installation": _installation_json(sandbox, installation),
        "repositories": repos,
        "requester": None,
        "sender": sender_payload(sandbox, sender),
    }
    sandbox.webhooks.emit("installation", payload, installation["id"])


def emit_repositories_changed(
    sandbox: Sandbox, installation: Record, added: list[Record], removed: list[Record], sender: str
) -> None:
    payload = {
        "action": "added" if added else "removed",
        "installation": _installation_json(sandbox, installation),
        "repository_selection": installation["repository_selection"],
        "repositories_added": [_repo_stub(r) for r in added],
        "repositories_removed": [_repo_stub(r) for r in removed],
        "requester": None,
        "sender": sender_payload(sandbox, sender),
    }
    sandbox.webhooks.emit("installation_repositories", payload, installation["id"])
