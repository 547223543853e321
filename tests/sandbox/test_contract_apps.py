"""Contract: app, installation, delivery and manifest endpoints, driven through githubkit."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import UnauthAuthStrategy

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import BASE_URL, OWNER, REPO, World, github_client
from tests.sandbox.openapi_check import run_contract, unvalidated


async def app_and_installations(world: World) -> None:
    async with world.app_github() as gh:
        app = (await gh.rest.apps.async_get_authenticated()).parsed_data
        assert app is not None and app.id == world.app.id
        installations = (await gh.rest.apps.async_list_installations()).parsed_data
        assert [i.id for i in installations] == [world.installation_id]
        one = (await gh.rest.apps.async_get_installation(world.installation_id)).parsed_data
        assert one.account is not None
        found = (await gh.rest.apps.async_get_repo_installation(OWNER, REPO)).parsed_data
        assert found.id == world.installation_id
        token = await gh.rest.apps.async_create_installation_access_token(world.installation_id)
        assert token.parsed_data.token


async def installation_repositories(world: World) -> None:
    async with world.installation_github() as gh:
        listed = (await gh.rest.apps.async_list_repos_accessible_to_installation()).parsed_data
        assert [r.full_name for r in listed.repositories] == [f"{OWNER}/{REPO}"]


async def webhook_deliveries(world: World) -> None:
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files={"a.txt": "a\n"}))
    await world.admin.run(calls.flush_deliveries())
    async with world.app_github() as gh:
        deliveries = (await gh.rest.apps.async_list_webhook_deliveries(per_page=100)).parsed_data
        assert deliveries
        first = (await gh.rest.apps.async_get_webhook_delivery(deliveries[0].id)).parsed_data
        assert first.guid == deliveries[0].guid
        retried = await gh.rest.apps.async_redeliver_webhook_delivery(first.id)
        assert retried.status_code == 202
        assert retried.parsed_data is not None


async def manifest_code(transport: httpx.AsyncBaseTransport | None) -> str:
    """The browser step of the manifest flow: confirm the manifest, read the redirect code."""
    manifest = {
        "name": "contract-app",
        "url": "https://example.com/app",
        "redirect_url": "https://example.com/setup/callback",
        "hook_attributes": {"url": "https://example.com/webhooks"},
        "default_permissions": {"contents": "write"},
        "default_events": ["push"],
    }
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
        response = await browser.post(
            f"/organizations/{OWNER}/settings/apps/new/confirm",
            data={"manifest": json.dumps(manifest), "state": "s1"},
        )
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


async def manifest_conversion(world: World) -> None:
    code = await manifest_code(unvalidated(world.transport))
    anonymous = github_client(UnauthAuthStrategy(), transport=world.transport)
    async with anonymous as gh:
        converted = (await gh.rest.apps.async_create_from_manifest(code)).parsed_data
    assert converted.slug and converted.pem.startswith("-----BEGIN")


SCENARIOS = (
    app_and_installations,
    installation_repositories,
    webhook_deliveries,
    manifest_conversion,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_contract(world: World, scenario) -> None:
    await run_contract(world, [scenario])


async def test_contract_over_loopback_http(live_world: World) -> None:
    hook = await run_contract(live_world, [app_and_installations, installation_repositories])
    assert ("GET", "/installation/repositories") in hook.succeeded()
