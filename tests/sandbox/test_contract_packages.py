"""Contract: container packages and their versions (org and user owned), rate limit, users."""

from __future__ import annotations

import pytest

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.openapi_check import run_contract

USER, USER_REPO = "octo", "svc"


async def org_container_package(world: World) -> None:
    await world.admin.run(
        calls.publish_package(OWNER, "web", repository=REPO, tag="1.4.2", platforms=["linux/amd64"])
    )
    async with world.installation_github() as gh:
        packages = gh.rest.packages
        package = await packages.async_get_package_for_organization("container", "web", OWNER)
        assert package.parsed_data.name == "web"
        versions = await packages.async_get_all_package_versions_for_package_owned_by_org(
            "container", "web", OWNER
        )
        tags = [v.metadata.container.tags for v in versions.parsed_data if v.metadata]
        assert ["1.4.2"] in [list(t) for t in tags if t is not None]
        listed = await packages.async_list_packages_for_organization(
            OWNER, package_type="container", visibility="public"
        )
        assert [p.name for p in listed.parsed_data] == ["web"]
        newest = versions.parsed_data[0]
        version = await packages.async_get_package_version_for_organization(
            "container", "web", OWNER, newest.id
        )
        assert version.parsed_data == newest


async def user_container_package(world: World) -> None:
    user = await world.admin.run(calls.create_user(USER))
    await world.admin.run(calls.create_repo(USER, USER_REPO, owner_type="User"))
    await world.admin.run(calls.publish_package(USER, USER_REPO, repository=USER_REPO, tag="2.0.0"))
    async with world.token_github(user.token) as gh:
        packages = gh.rest.packages
        package = await packages.async_get_package_for_user("container", USER_REPO, USER)
        assert package.parsed_data.owner is not None
        versions = await packages.async_get_all_package_versions_for_package_owned_by_user(
            "container", USER_REPO, USER
        )
        assert len(versions.parsed_data) == 1
        listed = await packages.async_list_packages_for_user(USER, package_type="container")
        assert [p.name for p in listed.parsed_data] == [USER_REPO]
        version = await packages.async_get_package_version_for_user(
            "container", USER_REPO, versions.parsed_data[0].id, USER
        )
        assert version.parsed_data.name == versions.parsed_data[0].name


async def rate_limit_and_users(world: World) -> None:
    user = await world.admin.run(calls.create_user("mona", name="Mona Lisa"))
    async with world.installation_github() as gh:
        overview = (await gh.rest.rate_limit.async_get()).parsed_data
        assert overview.resources.core.limit >= overview.resources.core.remaining
        public = (await gh.rest.users.async_get_by_username("mona")).parsed_data
        assert public.login == "mona"
    async with world.token_github(user.token) as gh:
        me = (await gh.rest.users.async_get_authenticated()).parsed_data
        assert (me.login, me.name) == ("mona", "Mona Lisa")


SCENARIOS = (org_container_package, user_container_package, rate_limit_and_users)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_contract(world: World, scenario) -> None:
    await run_contract(world, [scenario])
