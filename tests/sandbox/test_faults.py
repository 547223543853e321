"""Each fault kind, configured through the admin API, as a githubkit client sees it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)

from github_sandbox import admin_client as calls
from github_sandbox.faults import FaultRule, Faults
from tests.sandbox.conftest import OWNER, REPO, World

REPO_PATH = f"/repos/{OWNER}/{REPO}"


async def get_repo(world: World):
    async with world.installation_github() as gh:
        return await gh.rest.repos.async_get(OWNER, REPO)


async def fault(world: World, **rule) -> None:
    await world.admin.run(calls.set_faults([{"path": REPO_PATH, **rule}]))


@pytest.mark.parametrize(
    ("rule", "status"),
    [
        ({"kind": "error"}, 502),
        ({"kind": "error", "status": 500}, 500),
        ({"kind": "timeout", "seconds": 0.05}, 504),
    ],
)
async def test_server_errors(world: World, rule, status) -> None:
    await fault(world, **rule)
    with pytest.raises(RequestFailed) as err:
        await get_repo(world)
    assert err.value.response.status_code == status
    assert "documentation_url" in err.value.response.json()


async def test_dropped_connection_is_a_transport_error(world: World) -> None:
    await fault(world, kind="timeout", drop=True, seconds=0.01)
    with pytest.raises(RequestError):
        await get_repo(world)


async def test_dropped_connection_over_real_http(live_world: World) -> None:
    await fault(live_world, kind="timeout", drop=True)
    with pytest.raises(RequestError):
        await get_repo(live_world)


async def test_latency_delays_but_serves(world: World) -> None:
    await fault(world, kind="latency", seconds=0.2)
    started = time.monotonic()
    response = await get_repo(world)
    assert response.status_code == 200 and time.monotonic() - started >= 0.2


@pytest.mark.parametrize("status", [403, 429])
async def test_secondary_rate_limit(world: World, status: int) -> None:
    await fault(world, kind="secondary_rate_limit", status=status, retry_after=7)
    with pytest.raises(SecondaryRateLimitExceeded) as err:
        await get_repo(world)
    assert err.value.response.status_code == status
    assert err.value.retry_after == timedelta(seconds=7)


async def test_primary_rate_limit(world: World) -> None:
    await fault(world, kind="primary_rate_limit", retry_after=120)
    with pytest.raises(PrimaryRateLimitExceeded) as err:
        await get_repo(world)
    assert err.value.response.headers["x-ratelimit-remaining"] == "0"
    assert timedelta(seconds=100) < err.value.retry_after <= timedelta(seconds=121)


async def test_ref_race_refuses_the_update_once(world: World) -> None:
    await world.admin.run(
        calls.set_faults(
            [{"kind": "ref_race", "method": "PATCH", "path": "*/git/refs/*", "times": 1}]
        )
    )
    async with world.installation_github() as gh:
        sha = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data.object_.sha
        with pytest.raises(RequestFailed) as err:
            await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
        retried = await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
    assert err.value.response.status_code == 422
    assert err.value.response.json()["message"] == "Update is not a fast forward"
    assert retried.status_code == 200


async def test_faults_are_logged_and_other_routes_untouched(world: World) -> None:
    await fault(world, kind="error")
    async with world.installation_github() as gh:
        branches = await gh.rest.repos.async_list_branches(OWNER, REPO)
    assert branches.status_code == 200
    with pytest.raises(RequestFailed):
        await get_repo(world)
    log = await world.admin.run(calls.requests_log(route="/repos/{owner}/{repo}"))
    assert [(e["status"], e["fault"]) for e in log] == [(502, "error")]


def test_fault_draws_are_deterministic_per_seed() -> None:
    def draws(seed: int) -> list[bool]:
        faults = Faults(seed)
        faults.configure([FaultRule(kind="error", rate=0.5)])
        return [faults.pick("GET", "/x") is not None for _ in range(40)]

    assert draws(1) == draws(1)
    assert draws(1) != draws(2)
    assert 5 < sum(draws(1)) < 35
