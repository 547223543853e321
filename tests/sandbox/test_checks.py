"""Check runs through githubkit: create, update, list by ref with filters, GitHub's limits, and
``check_run`` events including ``requested_action`` when a person clicks a button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import ActAs, AdminError
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


LIMITS = [
    ({"actions": [PROMOTE] * 4}, "No more than 3 items are allowed; 4 were supplied."),
    (
        {"actions": [{**PROMOTE, "label": "x" * 21}]},
        "Only 20 characters are allowed; 21 were supplied.",
    ),
    (
        {"actions": [{**PROMOTE, "description": "x" * 41}]},
        "Only 40 characters are allowed; 41 were supplied.",
    ),
    (
        {"actions": [{**PROMOTE, "identifier": "x" * 21}]},
        "Only 20 characters are allowed; 21 were supplied.",
    ),
    ({"actions": [{"label": "Go", "description": "go"}]}, '"identifier" wasn\'t supplied.'),
    (
        {"output": {"title": "t", "summary": "x" * 65536}},
        "Only 65535 characters are allowed; 65536 were supplied.",
    ),
]


async def send(gh: GitHub[Any], method: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """A raw request (githubkit refuses some of these bodies before sending them)."""
    try:
        return (await gh.arequest(method, path, json=body)).raw_response
    except RequestFailed as failed:
        return failed.response.raw_response


@pytest.mark.parametrize(("fields", "message"), LIMITS)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_action_and_output_limits(
    world: World, fields: dict[str, Any], message: str, method: str
) -> None:
    """OpenAPI ``checks/create`` and ``checks/update``: ``actions`` ``maxItems: 3``, ``label``
    and ``identifier`` ``maxLength: 20``, ``description`` 40 (all required), output text 65535.
    GitHub answers a body outside its schema with 422 and the reason in the message, with no
    ``errors`` ("Invalid request.\n\nOnly 65535 characters are allowed; 95964 were supplied.",
    reported by reviewdog/action-actionlint#72; "No more than 50 items are allowed; 53 were
    supplied.", AdWerx/pronto-ruby#49). GitHub documents no 422 for these operations, so this
    client skips the OpenAPI check."""
    async with world.installation_github() as gh:
        path = f"/repos/{OWNER}/{REPO}/check-runs"
        base = {"name": "gate", "head_sha": await head_of(gh)}
        if method == "PATCH":
            created = await gh.rest.checks.async_create(OWNER, REPO, **base)
            path, base = f"{path}/{created.parsed_data.id}", {}
        answered = await send(gh, method, path, {**base, **fields})
    anchor = "create-a-check-run" if method == "POST" else "update-a-check-run"
    assert answered.status_code == 422
    assert answered.json() == {
        "message": f"Invalid request.\n\n{message}",
        "documentation_url": f"https://docs.github.com/rest/checks/runs#{anchor}",
        "status": "422",
    }


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"status": "completed"}, 422),
        ({"head_sha": "0" * 40}, 422),
        ({"actions": [PROMOTE] * 3, "status": "queued"}, 201),
        ({"actions": [{"label": "x" * 20, "description": "y" * 40, "identifier": "z" * 20}]}, 201),
    ],
)
async def test_limits(world: World, fields: dict[str, Any], status: int) -> None:
    async with world.installation_github() as gh:
        body = {"name": "gate", "head_sha": await head_of(gh), **fields}
        answered = await send(gh, "POST", f"/repos/{OWNER}/{REPO}/check-runs", body)
    assert answered.status_code == status


async def test_buttons_as_people(gh: Client, world: World) -> None:
    """A click sends ``check_run`` ``requested_action`` with ``requested_action.identifier`` and
    the person as ``sender`` (docs: "Using the REST API to interact with checks", OpenAPI webhook
    ``check-run-requested-action``). Buttons show after the run completes (OpenAPI
    ``checks/create``, ``actions``) and to people with write access, a team's grant included."""
    sha = await head_of(gh)
    run = (
        await gh.rest.checks.async_create(
            OWNER,
            REPO,
            name="gate",
            head_sha=sha,
            status="in_progress",
            actions=[
                {"label": "Promote", "description": "Promote to prod", "identifier": "promote"}
            ],
        )
    ).parsed_data
    for login in ("reader", "deployer"):
        await world.admin.run(calls.create_user(login))
    await world.admin.run(calls.grant_role(OWNER, REPO, "reader", "read"))
    await world.admin.run(calls.create_team(OWNER, "Deployers"))
    await world.admin.run(calls.grant_team_repo(OWNER, "deployers", OWNER, REPO, "push"))
    await world.admin.run(calls.add_team_member(OWNER, "deployers", "deployer"))
    with pytest.raises(AdminError, match="status=422"):  # not completed: no buttons yet
        await world.admin.run(ActAs("deployer").click(OWNER, REPO, run.id, "promote"))
    await gh.rest.checks.async_update(OWNER, REPO, run.id, conclusion="action_required")
    with pytest.raises(AdminError, match="status=403"):
        await world.admin.run(ActAs("reader").click(OWNER, REPO, run.id, "promote"))
    with pytest.raises(AdminError, match="status=422"):
        await world.admin.run(ActAs("deployer").click(OWNER, REPO, run.id, "rollback"))
    await world.admin.run(ActAs("deployer").click(OWNER, REPO, run.id, "promote"))
    hooks = await hooks_of(world, "check_run")
    assert [h["action"] for h in hooks] == ["created", "completed", "requested_action"]
    clicked = hooks[-1]
    assert clicked["requested_action"] == {"identifier": "promote"}
    assert (clicked["sender"]["login"], clicked["sender"]["type"]) == ("deployer", "User")
    assert clicked["check_run"]["id"] == run.id


async def test_only_apps_create_check_runs(world: World) -> None:
    user = await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.grant_role(OWNER, REPO, "dev", "admin"))
    async with world.token_github(user.token) as gh:  # GitHub documents no 403 here
        with pytest.raises(RequestFailed) as failed:
            await gh.rest.checks.async_create(OWNER, REPO, name="gate", head_sha=await head_of(gh))
    assert failed.value.response.status_code == 403
    assert failed.value.response.json()["message"] == "You must authenticate via a GitHub App."
