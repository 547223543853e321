"""Check runs through githubkit: create, update, list by ref with filters, GitHub's limits, and
``check_run`` events including ``requested_action`` when a person clicks a button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import ActAs
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import Client, checked_github, hooks_of, open_feature

PROMOTE = {"label": "Promote", "description": "Promote to prod", "identifier": "promote"}


@pytest.fixture
async def gh(world: World) -> AsyncIterator[Client]:
    async with checked_github(world) as client:
        yield client


async def head_of(gh: GitHub[Any], ref: str = "main") -> str:
    return (await gh.rest.repos.async_get_branch(OWNER, REPO, ref)).parsed_data.commit.sha


async def test_create_update_get_and_events(gh: Client, world: World) -> None:
    number = await open_feature(gh, world)
    sha = await head_of(gh, "feature")
    created = await gh.rest.checks.async_create(
        OWNER,
        REPO,
        name="gate",
        head_sha=sha,
        status="in_progress",
        output={"title": "Waiting", "summary": "staging soak"},
        actions=[{"label": "Promote", "description": "Promote to prod", "identifier": "promote"}],
    )
    run = created.parsed_data
    assert (created.status_code, run.status, run.conclusion) == (201, "in_progress", None)
    assert [p.number for p in run.pull_requests] == [number]
    updated = await gh.rest.checks.async_update(OWNER, REPO, run.id, conclusion="success")
    assert (updated.parsed_data.status, updated.parsed_data.conclusion) == ("completed", "success")
    assert updated.parsed_data.completed_at is not None
    got = (await gh.rest.checks.async_get(OWNER, REPO, run.id)).parsed_data
    assert (got.output.title, got.output.summary) == ("Waiting", "staging soak")
    await world.admin.run(ActAs(OWNER).click(OWNER, REPO, run.id, "promote"))
    hooks = await hooks_of(world, "check_run")
    assert [h["action"] for h in hooks] == ["created", "completed", "requested_action"]
    assert hooks[2]["requested_action"] == {"identifier": "promote"}
    assert hooks[2]["sender"]["login"] == OWNER


async def test_list_for_ref_filters(gh: Client) -> None:
    sha = await head_of(gh)
    for name, conclusion in [("gate", "failure"), ("gate", "success"), ("lint", None)]:
        extra: dict[str, Any] = {"conclusion": conclusion} if conclusion else {}
        await gh.rest.checks.async_create(OWNER, REPO, name=name, head_sha=sha, **extra)

    async def names(**query: Any) -> list[tuple[str, str | None]]:
        found = await gh.rest.checks.async_list_for_ref(OWNER, REPO, "main", **query)
        return [(r.name, r.conclusion) for r in found.parsed_data.check_runs]

    assert await names() == [("lint", None), ("gate", "success")]
    assert await names(filter_="all") == [("lint", None), ("gate", "success"), ("gate", "failure")]
    assert await names(check_name="gate") == [("gate", "success")]
    assert await names(status="queued") == [("lint", None)]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"actions": [PROMOTE] * 4}, 422),
        ({"actions": [{**PROMOTE, "label": "x" * 21}]}, 422),
        ({"actions": [{**PROMOTE, "description": "x" * 41}]}, 422),
        ({"actions": [{**PROMOTE, "identifier": "x" * 21}]}, 422),
        ({"status": "completed"}, 422),
        ({"head_sha": "0" * 40}, 422),
        ({"actions": [PROMOTE] * 3, "status": "queued"}, 201),
    ],
)
async def test_limits(world: World, fields: dict[str, Any], status: int) -> None:
    # GitHub documents no 422 for this operation, so this client skips the OpenAPI check; and
    # a raw request, since githubkit refuses some of these bodies before sending them.
    async with world.installation_github() as gh:
        body = {"name": "gate", "head_sha": await head_of(gh), **fields}
        path = f"/repos/{OWNER}/{REPO}/check-runs"
        try:
            answered = (await gh.arequest("POST", path, json=body)).status_code
        except RequestFailed as failed:
            answered = failed.response.status_code
    assert answered == status


async def test_only_apps_create_check_runs(world: World) -> None:
    user = await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.grant_role(OWNER, REPO, "dev", "admin"))
    async with world.token_github(user.token) as gh:  # GitHub documents no 403 here
        with pytest.raises(RequestFailed) as failed:
            await gh.rest.checks.async_create(OWNER, REPO, name="gate", head_sha=await head_of(gh))
    assert failed.value.response.status_code == 403
    assert failed.value.response.json()["message"] == "You must authenticate via a GitHub App."
