"""GitHub's secondary rate limits as the sandbox shows them, per credential, on its clock.

Source of every figure: GitHub docs "Rate limits for the REST API", "About secondary rate
limits" (notes/github-facts.md "Secondary limits"). The sandbox's defaults are GitHub's figures;
tests that would need hundreds of requests set small ones through the admin API.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from githubkit.exception import RequestFailed

from bot.adapters.github_client import secondary_limit
from github_sandbox import admin_client as calls
from github_sandbox.secondary import SecondaryFigures
from tests.sandbox.conftest import OWNER, REPO, World

REPO_PATH = f"/repos/{OWNER}/{REPO}"


async def limits(world: World, **figures: Any) -> None:
    await world.admin.run(calls.set_secondary_limits(**figures))


async def open_issue(world: World, gh: Any, n: int) -> httpx.Response:
    """One content-generating request (5 points); a limit comes back as the raw response."""
    try:
        answer = await gh.arequest("POST", f"{REPO_PATH}/issues", json={"title": f"issue {n}"})
    except RequestFailed as err:
        refused: httpx.Response = err.response.raw_response
        return refused
    served: httpx.Response = answer.raw_response
    return served


async def limit_responses(world: World) -> dict[str, int]:
    counters = await world.admin.run(calls.counters())
    assert counters["limit_responses"] == sum(counters["by_limit"].values())
    return dict(counters["by_limit"])


def assert_secondary_limit(response: httpx.Response, status: int = 403) -> None:
    """docs: "If you exceed a secondary rate limit, you will receive a 403 or 429 response and
    an error message that indicates that you exceeded a secondary rate limit"; without
    ``retry-after`` and with ``x-ratelimit-remaining`` above 0 the docs say to wait at least a
    minute, which is what the sandbox leaves the client to work out."""
    assert response.status_code == status
    assert "retry-after" not in response.headers
    assert int(response.headers["x-ratelimit-remaining"]) > 0
    body = response.json()
    assert body["message"].startswith("You have exceeded a secondary rate limit")
    assert "secondary-rate-limits" in body["documentation_url"]


def test_the_default_figures_are_githubs() -> None:
    """docs "About secondary rate limits": no more than 100 concurrent requests, 900 points a
    minute for REST endpoints, 80 content-generating requests a minute and 500 an hour."""
    figures = SecondaryFigures()
    assert (figures.concurrent, figures.points_per_minute) == (100, 900)
    assert (figures.content_per_minute, figures.content_per_hour) == (80, 500)
    assert (figures.minute, figures.hour, figures.status) == (60.0, 3600.0, 403)


async def test_off_unless_turned_on(world: World) -> None:
    """The sandbox serves other tests unpaced; ``--secondary-limits`` or the admin API turn
    the limits on."""
    answer = await world.admin.run(calls.Call("GET", "/_sandbox/secondary-limits", dict))
    assert answer["enabled"] is False


async def test_80_content_generating_requests_a_minute(world: World) -> None:
    """docs: "No more than 80 content-generating requests per minute"; the 81st within the
    minute is refused, and the window slides on the sandbox clock."""
    await limits(world)
    async with world.installation_github() as gh:
        answers = [await open_issue(world, gh, n) for n in range(80)]
        assert {a.status_code for a in answers} == {201}
        assert_secondary_limit(await open_issue(world, gh, 80))
        assert (await gh.arequest("GET", REPO_PATH)).status_code == 200  # reads still pass
        await world.admin.run(calls.advance_clock(60))
        assert (await open_issue(world, gh, 81)).status_code == 201
    assert await limit_responses(world) == {"secondary:content_minute": 1}


async def test_500_content_generating_requests_an_hour(world: World) -> None:
    """docs: "no more than 500 content-generating requests per hour"; here 5 an hour and 3 a
    minute, so that the hour's budget runs out over two minutes."""
    await limits(world, content_per_minute=3, content_per_hour=5)
    async with world.installation_github() as gh:
        assert [(await open_issue(world, gh, n)).status_code for n in range(3)] == [201] * 3
        await world.admin.run(calls.advance_clock(61))
        assert [(await open_issue(world, gh, n)).status_code for n in range(2)] == [201] * 2
        assert_secondary_limit(await open_issue(world, gh, 5))
    await world.admin.run(calls.advance_clock(3600))
    async with world.installation_github() as gh:  # a new token: the old one expired
        assert (await open_issue(world, gh, 6)).status_code == 201
    assert await limit_responses(world) == {"secondary:content_hour": 1}


async def test_900_points_a_minute_reads_1_writes_5(world: World) -> None:
    """docs: "No more than 900 points per minute are allowed for REST API endpoints";
    "GET, HEAD, and OPTIONS requests" cost 1 point, "POST, PATCH, PUT, or DELETE requests"
    cost 5. With GitHub's 900: 2 writes (10 points) and 890 reads fill the minute."""
    await limits(world)
    async with world.installation_github() as gh:
        for n in range(2):
            assert (await open_issue(world, gh, n)).status_code == 201
        for _ in range(890):
            await gh.arequest("GET", f"{REPO_PATH}/issues/1")
        with pytest.raises(RequestFailed) as err:
            await gh.arequest("GET", f"{REPO_PATH}/issues/1")
        assert_secondary_limit(err.value.response.raw_response)
        await world.admin.run(calls.advance_clock(60))
        assert (await gh.arequest("GET", f"{REPO_PATH}/issues/1")).status_code == 200
    assert await limit_responses(world) == {"secondary:points": 1}


async def test_100_concurrent_requests(world: World) -> None:
    """docs: "No more than 100 concurrent requests are allowed"; here 2, with every answer
    held back 0.3 s (a ``latency`` fault), so a third request in flight is refused."""
    await limits(world, concurrent=2)
    await world.admin.run(calls.set_faults([{"kind": "latency", "seconds": 0.3}]))
    async with world.installation_github() as gh:
        await gh.arequest("GET", REPO_PATH)  # the installation token, before the race
        outcomes = await asyncio.gather(
            *(gh.arequest("GET", REPO_PATH) for _ in range(3)), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, RequestFailed)]
    assert len(refused) == 1
    assert_secondary_limit(refused[0].response.raw_response)
    assert await limit_responses(world) == {"secondary:concurrent": 1}


async def test_each_credential_has_its_own_limits(world: World) -> None:
    """docs: the limits apply per user or per app installation ("Rate limits for the REST
    API": primary and secondary limits are counted per credential); a person's token still
    writes when the installation is limited."""
    await limits(world, content_per_minute=1)
    person = await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.grant_role(OWNER, REPO, person.login, "write"))
    async with world.installation_github() as gh, world.token_github(person.token) as as_dev:
        assert (await open_issue(world, gh, 0)).status_code == 201
        assert_secondary_limit(await open_issue(world, gh, 1))
        assert (await open_issue(world, as_dev, 2)).status_code == 201
        assert_secondary_limit(await open_issue(world, as_dev, 3))
    assert await limit_responses(world) == {"secondary:content_minute": 2}


async def test_the_answer_can_be_429_and_the_bot_reads_it_as_a_secondary_limit(
    world: World,
) -> None:
    """docs: "a 403 or 429 response"; both, without ``retry-after``, are what the bot's
    adapter must take for a secondary limit (and then wait at least a minute)."""
    for status in (403, 429):
        await limits(world, content_per_minute=1, status=status)
        async with world.installation_github() as gh:
            await open_issue(world, gh, 0)
            with pytest.raises(RequestFailed) as err:
                await gh.arequest("POST", f"{REPO_PATH}/issues", json={"title": "one more"})
        assert_secondary_limit(err.value.response.raw_response, status)
        assert secondary_limit(err.value)


async def test_a_fault_rule_can_leave_retry_after_out(world: World) -> None:
    """docs: "If the retry-after response header is present, you should not retry your
    request until after that many seconds has elapsed" -- GitHub often leaves it out, and a
    ``secondary_rate_limit`` rule with ``retry_after: null`` does too."""
    rule = {"kind": "secondary_rate_limit", "path": REPO_PATH, "retry_after": None, "times": 1}
    await world.admin.run(calls.set_faults([rule]))
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.arequest("GET", REPO_PATH)
        assert (await gh.arequest("GET", REPO_PATH)).status_code == 200
    assert_secondary_limit(err.value.response.raw_response)
    assert await limit_responses(world) == {"secondary:fault": 1}


async def test_zero_limit_responses_when_under_the_limits(world: World) -> None:
    """What an end-to-end test asserts after a burst: the counters say how many answers were
    rate limits, none here."""
    await limits(world)
    async with world.installation_github() as gh:
        for n in range(5):
            await open_issue(world, gh, n)
    counters = await world.admin.run(calls.counters())
    assert (counters["limit_responses"], counters["by_limit"]) == (0, {})
