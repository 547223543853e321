"""Who may do what: the role matrix on pull requests, pushes and labels, the collaborator
permission endpoint, team memberships, and admin acts held to the person's role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed
from githubkit.webhooks import parse_obj

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import ActAs, AdminError, add_team_member, create_team
from github_sandbox.pulls_model import find_pull
from github_sandbox.pulls_reviews import review_payload
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import checked_github, open_feature, settle

Act = Callable[[GitHub[Any]], Awaitable[Any]]


async def merge(gh: GitHub[Any]) -> Any:
    return await gh.rest.pulls.async_merge(OWNER, REPO, 1)


async def push(gh: GitHub[Any]) -> Any:
    main = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data.object_.sha
    return await gh.rest.git.async_update_ref(OWNER, REPO, "heads/feature", sha=main, force=True)


async def edit(gh: GitHub[Any]) -> Any:
    return await gh.rest.pulls.async_update(OWNER, REPO, 1, title="mine now")


async def label(gh: GitHub[Any]) -> Any:
    return await gh.rest.issues.async_add_labels(OWNER, REPO, 1, labels=["hold"])


async def close(gh: GitHub[Any]) -> Any:
    return await gh.rest.pulls.async_update(OWNER, REPO, 1, state="closed")


async def comment(gh: GitHub[Any]) -> Any:
    return await gh.rest.issues.async_create_comment(OWNER, REPO, 1, body="+1")


async def status_as(world: World, role: str | None, act: Act) -> int:
    """Open pull request #1 as the app, then run ``act`` as a user holding ``role``."""
    async with checked_github(world) as app:
        await open_feature(app, world)
    settle(world)
    user = await world.admin.run(calls.create_user("dev"))
    if role:
        await world.admin.run(calls.grant_role(OWNER, REPO, "dev", role))
    async with world.token_github(user.token) as gh:
        try:
            return (await act(gh)).status_code  # type: ignore[no-any-return]
        except RequestFailed as failed:
            return failed.response.status_code


@pytest.mark.parametrize(
    ("role", "act", "status"),
    [
        ("read", merge, 403),
        ("read", push, 403),
        ("read", edit, 403),
        ("read", label, 403),
        ("read", close, 403),
        ("read", comment, 201),
        (None, comment, 201),
        (None, merge, 403),
        ("triage", label, 200),
        ("triage", close, 200),
        ("triage", merge, 403),
        ("triage", edit, 403),
        ("write", edit, 200),
        ("write", push, 200),
        ("write", merge, 200),
        ("maintain", merge, 200),
        ("admin", merge, 200),
    ],
)
async def test_role_matrix(world: World, role: str | None, act: Act, status: int) -> None:
    assert await status_as(world, role, act) == status


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        ("admin", "admin"),
        ("maintain", "write"),
        ("write", "write"),
        ("triage", "read"),
        ("read", "read"),
        (None, "read"),
    ],
)
async def test_collaborator_permission(world: World, role: str | None, permission: str) -> None:
    """A direct grant on the (public) world repo; without one, everyone reads a public repo.
    Grants through teams and the organisation: ``test_grants.py``."""
    await world.admin.run(calls.create_user("dev"))
    if role:
        await world.admin.run(calls.grant_role(OWNER, REPO, "dev", role))
    async with checked_github(world) as gh:
        found = await gh.rest.repos.async_get_collaborator_permission_level(OWNER, REPO, "dev")
    assert (found.parsed_data.permission, found.parsed_data.role_name) == (
        permission,
        role or "read",
    )


async def test_team_membership(world: World) -> None:
    for login in ("alice", "bob"):
        await world.admin.run(calls.create_user(login))
    team = await world.admin.run(create_team(OWNER, "Release Managers"))
    assert team["slug"] == "release-managers"
    await world.admin.run(add_team_member(OWNER, "release-managers", "alice", "maintainer"))
    async with checked_github(world) as gh:
        found = await gh.rest.teams.async_get_membership_for_user_in_org(
            OWNER, "release-managers", "alice"
        )
        assert (found.parsed_data.role, found.parsed_data.state) == ("maintainer", "active")
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as missing:
            await gh.rest.teams.async_get_membership_for_user_in_org(
                OWNER, "release-managers", "bob"
            )
    assert missing.value.response.status_code == 404


async def test_admin_acts_respect_roles(world: World) -> None:
    await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.grant_role(OWNER, REPO, "dev", "read"))
    async with checked_github(world) as gh:
        number = await open_feature(gh, world)
    reader = ActAs("dev")
    await world.admin.run(reader.comment(OWNER, REPO, number, "/promote"))
    await world.admin.run(reader.approve(OWNER, REPO, number))
    with pytest.raises(AdminError, match="status=403"):
        await world.admin.run(reader.merge(OWNER, REPO, number))
    await world.admin.run(calls.grant_role(OWNER, REPO, "dev", "write"))
    merged = await world.admin.run(reader.merge(OWNER, REPO, number, merge_method="squash"))
    assert merged["merged"] is True


async def test_approval_payload_parses(world: World) -> None:
    await world.admin.run(calls.create_user("dev"))
    async with checked_github(world) as gh:
        number = await open_feature(gh, world)
    review = await world.admin.run(ActAs("dev").approve(OWNER, REPO, number, "ship it"))
    sandbox = world.sandbox
    repo = sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    stored = sandbox.store.get("review", review["id"])
    assert stored is not None
    payload = review_payload(sandbox, repo, find_pull(sandbox, repo, number), stored)
    event = parse_obj("pull_request_review", payload)
    assert (event.review.state, event.review.user.login) == ("approved", "dev")  # type: ignore[union-attr]
