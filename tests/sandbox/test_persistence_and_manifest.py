"""State survives a restart on the same data directory; the manifest flow and install page."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import UnauthAuthStrategy
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import AsyncAdminClient
from github_sandbox.app import create_app, sandbox_of_app
from tests.sandbox.conftest import BASE_URL, OWNER, REPO, World, github_client, seed_world


async def test_restart_keeps_everything(tmp_path: Path) -> None:
    first = create_app(tmp_path)
    transport = httpx.ASGITransport(app=first)
    admin = AsyncAdminClient(BASE_URL, transport=transport)
    world = await seed_world(
        admin, sandbox_of_app(first), transport=transport, base_url=BASE_URL, webhook_url=None
    )
    await admin.run(calls.push(OWNER, REPO, pusher=OWNER, files={"x.txt": "1\n"}, message="x"))
    await admin.run(calls.advance_clock(60))
    token = await admin.run(calls.installation_token(world.installation_id))
    await admin.aclose()
    sandbox_of_app(first).close()

    second = create_app(tmp_path)
    world.transport = httpx.ASGITransport(app=second)
    world.sandbox = sandbox_of_app(second)
    try:
        assert world.sandbox.clock.offset == 60
        async with world.token_github(token) as gh:
            commits = await gh.rest.repos.async_list_commits(OWNER, REPO)
        async with world.app_github() as gh:
            installation = await gh.rest.apps.async_get_repo_installation(OWNER, REPO)
    finally:
        world.sandbox.close()
    assert [c.commit.message for c in commits.parsed_data] == ["x", "Initial commit"]
    assert installation.parsed_data.id == world.installation_id


MANIFEST = {
    "name": "gitops-promoter",
    "url": "https://example.com/promoter",
    "hook_attributes": {"url": "https://example.com/hooks"},
    "redirect_url": "https://example.com/setup/callback",
    "setup_url": "https://example.com/setup/installed",
    "default_permissions": {"contents": "write", "pull_requests": "write"},
    "default_events": ["push", "pull_request"],
}


async def manifest_code(world: World, path: str) -> tuple[str, str]:
    async with httpx.AsyncClient(transport=world.transport, base_url=world.base_url) as client:
        form = {"manifest": json.dumps(MANIFEST)}
        page = await client.post(f"{path}?state=s1", data=form)
        assert page.status_code == 200 and "Create GitHub App" in page.text
        confirm = await client.post(f"{path}/confirm", data={**form, "state": "s1"})
    assert confirm.status_code == 302
    location = urlsplit(confirm.headers["location"])
    query = parse_qs(location.query)
    return f"{location.scheme}://{location.netloc}{location.path}", query["code"][0] + "|" + query[
        "state"
    ][0]


@pytest.mark.parametrize(
    ("path", "owner"),
    [("/settings/apps/new", "sandbox-admin"), (f"/organizations/{OWNER}/settings/apps/new", OWNER)],
)
async def test_manifest_flow(world: World, path: str, owner: str) -> None:
    target, code_state = await manifest_code(world, path)
    code, state = code_state.split("|")
    assert (target, state) == (MANIFEST["redirect_url"], "s1")
    async with github_client(
        UnauthAuthStrategy(), transport=world.transport, base_url=world.base_url
    ) as gh:
        app = (await gh.rest.apps.async_create_from_manifest(code)).parsed_data
        with pytest.raises(RequestFailed) as reused:
            await gh.rest.apps.async_create_from_manifest(code)
    assert app.slug == "gitops-promoter" and app.owner is not None and app.owner.login == owner
    assert app.pem.startswith("-----BEGIN RSA PRIVATE KEY-----") and app.webhook_secret
    assert app.permissions.contents == "write"
    assert reused.value.response.status_code == 404


async def test_manifest_code_expires_after_an_hour(world: World) -> None:
    _, code_state = await manifest_code(world, "/settings/apps/new")
    await world.admin.run(calls.advance_clock(3601))
    async with github_client(
        UnauthAuthStrategy(), transport=world.transport, base_url=world.base_url
    ) as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.rest.apps.async_create_from_manifest(code_state.split("|")[0])
    assert err.value.response.status_code == 404


async def test_install_page_installs_and_redirects_to_setup_url(world: World) -> None:
    _, code_state = await manifest_code(world, f"/organizations/{OWNER}/settings/apps/new")
    async with github_client(
        UnauthAuthStrategy(), transport=world.transport, base_url=world.base_url
    ) as gh:
        app = (await gh.rest.apps.async_create_from_manifest(code_state.split("|")[0])).parsed_data
    async with httpx.AsyncClient(transport=world.transport, base_url=world.base_url) as client:
        page = await client.get(f"/apps/{app.slug}/installations/new")
        done = await client.post(
            f"/apps/{app.slug}/installations/new", data={"account": OWNER, "repositories": REPO}
        )
    assert page.status_code == 200 and "Install" in page.text
    location = urlsplit(done.headers["location"])
    query = parse_qs(location.query)
    assert location.path == "/setup/installed" and query["setup_action"] == ["install"]
    installation = world.sandbox.store.get("installation", int(query["installation_id"][0]))
    assert installation is not None and installation["app_id"] == app.id


async def test_pending_deliveries_are_sent_after_a_restart(tmp_path: Path) -> None:
    first = create_app(tmp_path)
    sandbox = sandbox_of_app(first)
    sandbox.webhooks.close()  # stop the worker so the delivery stays pending
    transport = httpx.ASGITransport(app=first)
    admin = AsyncAdminClient(BASE_URL, transport=transport)
    await seed_world(
        admin,
        sandbox,
        transport=transport,
        base_url=BASE_URL,
        webhook_url=f"{BASE_URL}/_sandbox/sink/hooks",
    )
    await admin.aclose()
    assert [d["status"] for d in sandbox.store.find("delivery")] == ["pending"]
    sandbox.store.close()

    received: list[bytes] = []

    async def receiver(scope, receive, send) -> None:
        received.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    second = create_app(tmp_path, webhook_transport=httpx.ASGITransport(app=receiver))
    restarted = sandbox_of_app(second)
    try:
        assert restarted.webhooks.wait_idle(10)
        assert [d["status"] for d in restarted.store.find("delivery")] == ["OK"]
        assert json.loads(received[0])["action"] == "created"
    finally:
        restarted.close()
