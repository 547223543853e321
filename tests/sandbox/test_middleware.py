"""What every API response carries: pagination links, ETags with 304s, rate-limit headers from a
real budget, request ids, and the request log/counters behind them."""

from __future__ import annotations

import pytest
from githubkit.exception import PrimaryRateLimitExceeded, RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World


async def test_pagination_links(world: World) -> None:
    tags = {f"t{i}": "main" for i in range(5)}
    for name, target in tags.items():
        await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, tags={name: target}))
    async with world.installation_github() as gh:
        first = await gh.rest.repos.async_list_tags(OWNER, REPO, per_page=2)
        last = await gh.rest.repos.async_list_tags(OWNER, REPO, per_page=2, page=3)
        everything = [
            t.name
            async for t in gh.rest.paginate(
                gh.rest.repos.async_list_tags, owner=OWNER, repo=REPO, per_page=2
            )
        ]
    assert 'rel="next"' in first.headers["link"] and 'rel="last"' in first.headers["link"]
    assert "page=3" in first.headers["link"]
    assert 'rel="prev"' in last.headers["link"] and 'rel="next"' not in last.headers["link"]
    assert [t.name for t in last.parsed_data] == ["t0"]
    assert everything == ["t4", "t3", "t2", "t1", "t0"]


async def test_etag_304_does_not_spend_budget(world: World) -> None:
    async with world.installation_github() as gh:
        first = await gh.rest.repos.async_get(OWNER, REPO)
        etag = first.headers["etag"]
        again = await gh.arequest("GET", f"/repos/{OWNER}/{REPO}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]
    assert again.headers["x-ratelimit-remaining"] == first.headers["x-ratelimit-remaining"]


async def test_rate_limit_headers_count_and_exhaust(world: World) -> None:
    world.sandbox.rate_limits.limit = 3
    async with world.installation_github() as gh:
        one = await gh.rest.repos.async_get(OWNER, REPO)
        two = await gh.rest.repos.async_list_branches(OWNER, REPO)
        overview = await gh.rest.rate_limit.async_get()
        await gh.rest.repos.async_list_tags(OWNER, REPO)
        with pytest.raises(PrimaryRateLimitExceeded) as err:
            await gh.rest.repos.async_get(OWNER, REPO)
    assert one.headers["x-ratelimit-limit"] == "3"
    assert [one.headers["x-ratelimit-used"], two.headers["x-ratelimit-used"]] == ["1", "2"]
    assert one.headers["x-ratelimit-resource"] == "core"
    assert overview.parsed_data.resources.core.remaining == 1
    assert err.value.response.status_code == 403
    assert "rate limit exceeded" in err.value.response.json()["message"]
    assert int(err.value.response.headers["x-ratelimit-reset"]) > 0


async def test_request_ids_and_counters(world: World) -> None:
    async with world.installation_github() as gh:
        a = await gh.rest.repos.async_get(OWNER, REPO)
        b = await gh.rest.repos.async_get(OWNER, REPO)
        await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")
    assert a.headers["x-github-request-id"] != b.headers["x-github-request-id"]
    counted = await world.admin.run(calls.counters(installation_id=world.installation_id))
    assert counted["by_route"] == {
        "GET /repos/{owner}/{repo}": 2,
        "GET /repos/{owner}/{repo}/git/ref/{ref}": 1,
    }
    assert counted["by_installation"] == {str(world.installation_id): 3}
    await world.admin.run(calls.reset_requests())
    assert (await world.admin.run(calls.counters()))["total"] == 0


async def test_errors_have_github_shape(world: World) -> None:
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.rest.repos.async_get(OWNER, "nope")
    body = err.value.response.json()
    assert body["message"] == "Not Found" and body["documentation_url"].startswith("https://")
    assert body["status"] == "404"
