"""Two real processes on loopback, ``promotion-bot sandbox`` and ``promotion-bot serve``, from
the demo's harness (``bot.demo.harness.start_stack(processes=True)``). The sandbox shows
GitHub's secondary rate limits (its figures by default), so a test that makes the bot trip one
fails (``conftest.no_rate_limit_tripped``).

Each test builds its own organisation (repositories, installation, one person with write
access) so tests share the two processes and stay independent. Everything is awaited by
polling with a deadline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.demo.harness import GitHubView, Stack, start_stack
from github_sandbox import admin_client as calls

# A registry outside GitHub: pushes posted to /webhooks/registry/generic, signed with this.
GENERIC_REGISTRY_TOKEN = "e2e-generic-registry-token-0123456789"
# A killed bot's leased jobs come back after this long, not after the default 5 minutes.
BOT_OPTIONS = {
    "lease_seconds": "2",
    "log_level": "INFO",
    "registry_tokens": json.dumps({"generic": GENERIC_REGISTRY_TOKEN}),
}


@dataclass
class Org:
    """One test's organisation: its installation and a person with write access."""

    name: str
    installation_id: int
    person: str
    view: GitHubView

    def repo(self, name: str) -> str:
        return f"{self.name}/{name}"


def start_processes(
    workdir: Path,
    options: Mapping[str, str] | None = None,
    limits: Mapping[str, Any] | None = None,
) -> Stack:
    """The stack, with ``options`` added to ``BOT_OPTIONS`` and the sandbox's secondary limits
    on (GitHub's figures, or ``limits``: ``SecondaryFigures``' fields)."""
    stack = start_stack(
        workdir, org="bot-owners", processes=True, options=BOT_OPTIONS | dict(options or {})
    )
    try:
        stack.admin.run(calls.set_secondary_limits(**dict(limits or {})))
    except BaseException:
        stack.stop()
        raise
    return stack


def rate_limits_tripped(stack: Stack) -> dict[str, int]:
    """The sandbox's answers that were rate limits the bot tripped (``secondary:points``...),
    leaving out those a fault rule injected on purpose."""
    by_limit: dict[str, int] = stack.admin.run(calls.counters())["by_limit"]
    return {limit: n for limit, n in by_limit.items() if not limit.endswith(":fault")}


def organisation(
    stack: Stack,
    name: str,
    repos: Mapping[str, Mapping[str, str]],
    branches: Mapping[str, Mapping[str, Mapping[str, str | None]]] | None = None,
) -> Org:
    """Create ``repos`` (name -> files on main; ``branches``: name -> branch -> files) under
    ``name``, install ``stack``'s App on all of them, and give one person write access."""
    for repo, files in repos.items():
        more = (branches or {}).get(repo)
        stack.admin.run(calls.create_repo(name, repo, files=files, branches=more))
    installation = stack.admin.run(calls.install_app(stack.app.id, name))
    person = stack.admin.run(calls.create_user(f"{name}-dev"))
    for repo in repos:
        stack.admin.run(calls.grant_role(name, repo, person.login, "write"))
    return Org(name, installation.id, person.login, stack.view(person.token))
