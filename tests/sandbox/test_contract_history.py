"""Contract: branches, compare, commits, tags and releases, driven through githubkit."""

from __future__ import annotations

import pytest

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.openapi_check import run_contract

BRANCH = "contract/history"


async def branches_compare_commits(world: World) -> None:
    await world.admin.run(
        calls.push(OWNER, REPO, pusher=OWNER, branch=BRANCH, files={"history.txt": "1\n"})
    )
    async with world.installation_github() as gh:
        repos = gh.rest.repos
        names = [b.name for b in (await repos.async_list_branches(OWNER, REPO)).parsed_data]
        assert {"main", BRANCH} <= set(names)
        branch = (await repos.async_get_branch(OWNER, REPO, BRANCH)).parsed_data
        assert branch.name == BRANCH
        compared = (await repos.async_compare_commits(OWNER, REPO, f"main...{BRANCH}")).parsed_data
        assert (compared.status, compared.ahead_by) == ("ahead", 1)
        assert [f.filename for f in compared.files or []] == ["history.txt"]
        commits = (await repos.async_list_commits(OWNER, REPO, sha=BRANCH)).parsed_data
        assert commits[0].sha == branch.commit.sha
        first_page = await repos.async_list_commits(OWNER, REPO, sha=BRANCH, per_page=1)
        assert 'rel="next"' in first_page.headers.get("link", "")
        paged = gh.rest.paginate(repos.async_list_commits, owner=OWNER, repo=REPO, per_page=1)
        assert [c.sha async for c in paged][-1] == commits[-1].sha
        one = (await repos.async_get_commit(OWNER, REPO, branch.commit.sha)).parsed_data
        assert [f.filename for f in one.files or []] == ["history.txt"]
        by_ref = (await repos.async_get_commit(OWNER, REPO, BRANCH)).parsed_data
        assert by_ref.sha == branch.commit.sha


async def tags_and_releases(world: World) -> None:
    async with world.installation_github() as gh:
        repos = gh.rest.repos
        created = await repos.async_create_release(
            OWNER, REPO, tag_name="v1.2.3", name="v1.2.3", body="contract"
        )
        assert created.status_code == 201 and created.parsed_data.tag_name == "v1.2.3"
        rc = await repos.async_create_release(OWNER, REPO, tag_name="v1.3.0-rc.1", prerelease=True)
        assert rc.parsed_data.prerelease
        tags = (await repos.async_list_tags(OWNER, REPO)).parsed_data
        assert {"v1.2.3", "v1.3.0-rc.1"} <= {t.name for t in tags}
        releases = (await repos.async_list_releases(OWNER, REPO)).parsed_data
        assert [r.tag_name for r in releases] == ["v1.3.0-rc.1", "v1.2.3"]
        latest = (await repos.async_get_latest_release(OWNER, REPO)).parsed_data
        assert latest.tag_name == "v1.2.3"
        by_tag = (await repos.async_get_release_by_tag(OWNER, REPO, "v1.3.0-rc.1")).parsed_data
        assert by_tag.prerelease


SCENARIOS = (branches_compare_commits, tags_and_releases)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_contract(world: World, scenario) -> None:
    await run_contract(world, [scenario])
