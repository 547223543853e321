"""The sandbox's state: store, clock, git repos, webhooks, faults and metrics, in one object.

Routes reach it with ``sandbox_of(request)``; the admin API and tests reach it through
``app.state.sandbox``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import Request

from github_sandbox.clock import SandboxClock
from github_sandbox.faults import Faults
from github_sandbox.gitrepo import GitRepo
from github_sandbox.metrics import Metrics
from github_sandbox.ratelimit import RateLimits
from github_sandbox.secondary import OFF, SecondaryFigures, SecondaryLimits
from github_sandbox.store import Record, Store
from github_sandbox.webhooks import Webhooks


@dataclass
class Urls:
    """Where the sandbox says it lives; ``run_sandbox`` sets the real loopback address."""

    api: str = "http://sandbox.localhost"

    @property
    def html(self) -> str:
        return self.api


class Sandbox:
    # How long GitHub's background job takes to compute a pull request's mergeability after it
    # is opened, its head moves or its base moves: ``mergeable`` is null meanwhile and a merge
    # through the REST API answers 405 "Base branch was modified" (``pulls_model.settling``).
    mergeability_seconds: float = 2.0
    # GitHub's documented caps on big answers; tests set small ones. A recursive tree stops at
    # ``tree_entry_limit`` entries with ``truncated: true`` (git/get-tree: 100,000 entries or
    # 7 MB); a pull request lists at most ``pull_files_limit`` files (pulls/list-files: 3000);
    # a file over ``contents_inline_limit`` bytes comes from GET contents with empty
    # ``content`` and ``encoding: "none"`` unless asked for raw (repos/get-content: 1 MB).
    tree_entry_limit: int = 100_000
    pull_files_limit: int = 3000
    contents_inline_limit: int = 1024 * 1024

    def __init__(
        self,
        data_dir: Path,
        *,
        seed: int = 0,
        rate_limit: int = 5000,
        secondary_limits: SecondaryFigures = OFF,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.admin_token = admin_token
        self.store = Store(data_dir / "sandbox.sqlite3")
        self.clock = SandboxClock(float(self.store.get_meta("clock_offset", "0")))
        self.urls = Urls()
        self.rate_limits = RateLimits(self.clock, rate_limit)
        self.secondary_limits = SecondaryLimits(self.clock, secondary_limits)
        self.faults = Faults(seed)
        self.metrics = Metrics()
        self.webhooks = Webhooks(self.store, self.clock, transport=webhook_transport)
        self._git_repos: dict[Path, GitRepo] = {}
        self._git_lock = threading.Lock()

    def advance_clock(self, seconds: float) -> float:
        offset = self.clock.advance(seconds)
        self.store.set_meta("clock_offset", str(offset))
        return offset

    def git(self, repo: Record) -> GitRepo:
        """The repo's ``GitRepo``; one instance per path, so its lock is shared by requests."""
        path = self.data_dir / "repos" / repo["owner"] / f"{repo['name']}.git"
        with self._git_lock:
            return self._git_repos.setdefault(path, GitRepo(path))

    def repo_by_name(self, owner: str, name: str) -> Record | None:
        return self.store.find_one("repo", key=f"{owner}/{name}".lower())

    def close(self) -> None:
        self.webhooks.close()
        self.store.close()


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox
