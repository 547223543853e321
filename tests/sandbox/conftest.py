"""Sandbox fixtures: an in-process sandbox (ASGI transport, async clients), a live loopback one
(uvicorn thread, for webhook deliveries over HTTP), and a seeded world on each: one app
installed on ``acme/env`` with githubkit clients for the app and the installation.

Use them by placing tests in ``tests/sandbox/`` or with ``pytest_plugins =
["tests.sandbox.conftest"]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.auth import BaseAuthStrategy
from githubkit.cache import MemCacheStrategy

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import AppCredentials, AsyncAdminClient
from github_sandbox.app import create_app, sandbox_of_app
from github_sandbox.server import SandboxHandle
from github_sandbox.state import Sandbox

BASE_URL = "http://sandbox.test"
OWNER, REPO = "acme", "env"
PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "packages": "read",
    "members": "read",
}
EVENTS = [
    "push",
    "create",
    "release",
    "registry_package",
    "package",
    "pull_request",
    "issue_comment",
    "issues",
    "check_run",
]
SEED_FILES = {
    "README.md": "# env\n",
    "apps/web/values.yaml": "image:\n  tag: 1.0.0\n",
}


A = TypeVar("A", bound=BaseAuthStrategy)


def github_client(
    auth: A, *, transport: httpx.AsyncBaseTransport | None = None, base_url: str = BASE_URL
) -> GitHub[A]:
    """A githubkit client for the sandbox: own token cache (sandbox ids repeat across tests),
    no automatic retries (faults must reach the test) and no HTTP cache."""
    return GitHub(
        auth,
        base_url=base_url,
        async_transport=transport,
        cache_strategy=MemCacheStrategy(),
        auto_retry=False,
        http_cache=False,
        timeout=10.0,
    )


@dataclass
class World:
    """A seeded sandbox: ``app`` installed (``installation_id``) on ``acme/env``."""

    app: AppCredentials
    installation_id: int
    admin: AsyncAdminClient
    sandbox: Sandbox
    transport: httpx.AsyncBaseTransport | None
    base_url: str

    def app_github(self) -> GitHub[AppAuthStrategy]:
        return github_client(
            AppAuthStrategy(self.app.id, self.app.pem),
            transport=self.transport,
            base_url=self.base_url,
        )

    def installation_github(self) -> GitHub[AppInstallationAuthStrategy]:
        auth = AppInstallationAuthStrategy(
            self.app.id, self.app.pem, installation_id=self.installation_id
        )
        return github_client(auth, transport=self.transport, base_url=self.base_url)

    def token_github(self, token: str) -> GitHub[TokenAuthStrategy]:
        return github_client(
            TokenAuthStrategy(token), transport=self.transport, base_url=self.base_url
        )


async def seed_world(
    admin: AsyncAdminClient,
    sandbox: Sandbox,
    *,
    transport: httpx.AsyncBaseTransport | None,
    base_url: str,
    webhook_url: str | None,
) -> World:
    app = await admin.run(
        calls.create_app(
            "promoter", owner=OWNER, webhook_url=webhook_url, permissions=PERMISSIONS, events=EVENTS
        )
    )
    await admin.run(calls.create_repo(OWNER, REPO, files=SEED_FILES))
    installation = await admin.run(calls.install_app(app.id, OWNER, repositories=[REPO]))
    return World(app, installation.id, admin, sandbox, transport, base_url)


@pytest.fixture
def sandbox_app(tmp_path: Path) -> Iterator[FastAPI]:
    """An in-process sandbox; webhooks go to its own sink through the same ASGI app."""
    app = create_app(tmp_path / "sandbox")
    sandbox = sandbox_of_app(app)
    sandbox.urls.api = BASE_URL
    sandbox.webhooks.transport = httpx.ASGITransport(app=app)
    yield app
    sandbox.close()


@pytest.fixture
def sandbox_transport(sandbox_app: FastAPI) -> httpx.AsyncBaseTransport:
    return httpx.ASGITransport(app=sandbox_app)


@pytest.fixture
async def admin(sandbox_transport: httpx.AsyncBaseTransport) -> AsyncIterator[AsyncAdminClient]:
    client = AsyncAdminClient(BASE_URL, transport=sandbox_transport)
    yield client
    await client.aclose()


@pytest.fixture
async def world(
    admin: AsyncAdminClient, sandbox_app: FastAPI, sandbox_transport: httpx.AsyncBaseTransport
) -> World:
    """In-process: app + installation + ``acme/env``; webhooks land in sink ``hooks``."""
    return await seed_world(
        admin,
        sandbox_of_app(sandbox_app),
        transport=sandbox_transport,
        base_url=BASE_URL,
        webhook_url=f"{BASE_URL}/_sandbox/sink/hooks",
    )


@pytest.fixture
def app_github(world: World) -> GitHub[AppAuthStrategy]:
    return world.app_github()


@pytest.fixture
def installation_github(world: World) -> GitHub[AppInstallationAuthStrategy]:
    return world.installation_github()


@asynccontextmanager
async def seeded_live(
    handle: SandboxHandle, webhook_url: str | None = None
) -> AsyncIterator[World]:
    """A world seeded over real HTTP on a running sandbox; its webhooks go to ``webhook_url``
    (by default the sandbox's own sink ``hooks``)."""
    admin = AsyncAdminClient(handle.url)
    try:
        yield await seed_world(
            admin,
            handle.sandbox,
            transport=None,
            base_url=handle.url,
            webhook_url=webhook_url or f"{handle.url}/_sandbox/sink/hooks",
        )
    finally:
        await admin.aclose()


@pytest.fixture
async def live_world(live_sandbox: SandboxHandle) -> AsyncIterator[World]:
    """Live: like ``world``, over real HTTP; webhooks land in the live sink ``hooks``."""
    async with seeded_live(live_sandbox) as world:
        yield world
