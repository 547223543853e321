"""The real use cases over the adapter and the in-process sandbox.

The API budget is counted in the sandbox's request log while the image-push handler runs: with
a warm token and a cached config, opening a single-image promotion PR costs at most 8 REST calls
and updating it in place at most 8 (the compare-and-swap before the first write reads the heads
again, and the PR it would update: bot/services/proposals.py). Reconciling finds a version whose
webhook never reached the bot (the sandbox's webhooks go to a sink here) and opens its PR."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.adapters.catalog import builtin_policies
from bot.adapters.github import GitHubGateway
from bot.adapters.versions_memory import VersionsInMemory
from bot.core.inputs.events import ImagePushed
from bot.services.bump import handle_image_pushed
from bot.services.reconcile import run_reconcile
from bot.services.workspace import ConfigCache, Workspace
from github_sandbox import admin_client as calls
from tests.adapters.test_github_ports import api_calls, billed_calls, grant, reset
from tests.sandbox.conftest import OWNER, World
from tests.services.conftest import CONFIG_FILE, DIRECTORY_CONFIG, values

pytest_plugins = ["tests.adapters.test_github_ports"]

GITOPS = f"{OWNER}/gitops"


@pytest.fixture
async def warm(gateway: GitHubGateway, world: World) -> ConfigCache:
    """A running bot's state: token, repository list, parsed config and its tree cached."""
    files = {CONFIG_FILE: DIRECTORY_CONFIG}
    files |= {f"envs/{env}/values.yaml": values("1.2.0") for env in ("dev", "staging", "prod")}
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files))
    await world.admin.run(grant(world.installation_id, "gitops"))
    cache = ConfigCache(builtin_policies())
    assert len(await workspace(gateway, world, cache).configs_of_installation()) == 1
    return cache


def workspace(gateway: GitHubGateway, world: World, cache: ConfigCache) -> Workspace:
    ports = gateway.ports_for(world.installation_id)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    return Workspace(ports, cache, clock, VersionsInMemory(), world.installation_id)


def pushed(tag: str) -> ImagePushed:
    return ImagePushed(
        installation_id=1, registry="ghcr.io", repository=f"{OWNER}/api", tag=tag, digest=None
    )


async def test_opening_costs_at_most_8_and_updating_at_most_8(
    gateway: GitHubGateway, world: World, warm: ConfigCache
) -> None:
    await reset(world)
    opened = await handle_image_pushed(pushed("1.3.0"), workspace(gateway, world, warm))
    assert [(o.environment, o.action) for o in opened] == [("dev", "opened")]
    spent = await api_calls(world)
    assert len(spent) <= 8, spent

    await reset(world)
    updated = await handle_image_pushed(pushed("1.3.1"), workspace(gateway, world, warm))
    assert [(o.environment, o.action) for o in updated] == [("dev", "updated")]
    spent = await billed_calls(world)
    assert len(spent) <= 8, spent


async def test_reconcile_opens_the_pr_of_a_version_whose_webhook_was_lost(
    gateway: GitHubGateway, world: World, warm: ConfigCache
) -> None:
    await world.admin.run(calls.create_repo(OWNER, "api", files={"README.md": "api\n"}))
    await world.admin.run(grant(world.installation_id, "api"))
    await world.admin.run(calls.push(OWNER, "api", pusher=OWNER, tags={"v1.3.0": "main"}))
    await world.admin.run(calls.publish_package(OWNER, "api", repository="api", tag="1.3.0"))
    ports = gateway.ports_for(world.installation_id)
    ports.installation.forget_repositories()  # the api repository was just added
    outcomes = await run_reconcile(workspace(gateway, world, warm))
    assert [(o.environment, o.action) for o in outcomes if o.action != "skipped"] == [
        ("dev", "opened")
    ]
    (pull,) = await ports.pulls.history(GITOPS, "promotion/api/dev")
    assert (pull.head_ref, pull.by_bot) == ("promotion/api/dev", True)
    assert "1.3.0" in pull.title
    again = await run_reconcile(workspace(gateway, world, warm))
    assert all(o.action == "skipped" for o in again)
