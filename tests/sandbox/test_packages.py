"""Listing an owner's packages shows what the caller may read, filtered by visibility; a version
is found only under its own package."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World

Visibility = Literal["public", "private", "internal"]


async def publish_both(world: World) -> dict[str, str]:
    """``web`` from the public ``env``, ``vault`` from the private ``secret`` that ``member`` may
    read and ``outsider`` may not; the users' tokens by login."""
    await world.admin.run(calls.create_repo(OWNER, "secret", private=True))
    tokens = {
        login: (await world.admin.run(calls.create_user(login))).token
        for login in ("member", "outsider")
    }
    await world.admin.run(calls.grant_role(OWNER, "secret", "member", "read"))
    await world.admin.run(calls.publish_package(OWNER, "web", repository=REPO, tag="1.0.0"))
    await world.admin.run(calls.publish_package(OWNER, "vault", repository="secret", tag="2.0.0"))
    return tokens


# (who lists, visibility asked for, the names listed); one world serves all rows.
LISTINGS: list[tuple[str, Visibility | None, list[str]]] = [
    ("outsider", None, ["web"]),
    ("member", None, ["web", "vault"]),
    ("member", "public", ["web"]),
    ("member", "private", ["vault"]),
    ("member", "internal", ["vault"]),
    ("installation", None, ["web", "vault"]),
]


async def test_list_shows_what_the_caller_may_read(world: World) -> None:
    tokens = await publish_both(world)
    for who, visibility, names in LISTINGS:
        client = world.installation_github() if who == "installation" else None
        options: dict[str, Any] = {"visibility": visibility} if visibility else {}
        async with client or world.token_github(tokens[who]) as gh:
            found = await gh.rest.packages.async_list_packages_for_organization(
                OWNER, package_type="container", **options
            )
        assert [p.name for p in found.parsed_data] == names, (who, visibility)


async def test_list_needs_the_packages_permission(world: World) -> None:
    app = await world.admin.run(calls.create_app("plain", owner=OWNER))
    installation = await world.admin.run(calls.install_app(app.id, OWNER))
    token = await world.admin.run(calls.installation_token(installation.id))
    async with world.token_github(token) as gh:
        with pytest.raises(RequestFailed) as failed:
            await gh.rest.packages.async_list_packages_for_organization(
                OWNER, package_type="container"
            )
    assert failed.value.response.status_code == 403


async def test_version_is_found_under_its_own_package_only(world: World) -> None:
    tokens = await publish_both(world)
    async with world.token_github(tokens["member"]) as gh:
        packages = gh.rest.packages
        vault = await packages.async_get_all_package_versions_for_package_owned_by_org(
            "container", "vault", OWNER
        )
        version_id = vault.parsed_data[0].id
        found = await packages.async_get_package_version_for_organization(
            "container", "vault", OWNER, version_id
        )
        assert found.parsed_data.id == version_id
        with pytest.raises(RequestFailed) as elsewhere:
            await packages.async_get_package_version_for_organization(
                "container", "web", OWNER, version_id
            )
    assert elsewhere.value.response.status_code == 404


async def test_a_rebuild_is_another_digest_within_the_clocks_second(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registry names an image by the digest of its manifest, which names its config, which
    holds its labels: the same tag pushed again with other labels is another digest, and the
    same push again is the same digest (the bot de-duplicates on it)."""
    monkeypatch.setattr(world.sandbox.clock, "now", lambda: 1_800_000_000.0)
    pushes = [{}, {}, {"org.opencontainers.image.revision": "rebuilt"}]
    for labels in pushes:
        await world.admin.run(
            calls.publish_package(OWNER, "web", repository=REPO, tag="1.0.0", labels=labels)
        )
    async with world.installation_github() as gh:
        listed = await gh.rest.packages.async_get_all_package_versions_for_package_owned_by_org(
            "container", "web", OWNER
        )
    digests = sorted(v.name for v in listed.parsed_data)
    assert len(digests) == 3 and len(set(digests)) == 2
