"""Every source of a repository role, as GitHub counts them: direct grants, teams (active members
only), the organisation's owners and base permission; the highest wins.

Sources: OpenAPI ``repos/get-collaborator-permission-level`` ("the highest role assigned to the
collaborator after considering all sources of grants, including: repo, teams, organization";
``permission`` maps maintain to write and triage to read; ``role_name`` keeps the role),
``orgs/update`` (``default_repository_permission``: read, write, admin or none, default read),
``teams/add-or-update-repo-permissions-in-org`` (pull, triage, push, maintain, admin) and
``teams/get-membership-for-user-in-org`` / ``teams/add-or-update-membership-for-user-in-org``
(``state`` active or pending; pending "until the person accepts the invitation"; 404 "if user
has no team membership").
"""

from __future__ import annotations

from typing import Any

import pytest
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import Call
from tests.sandbox.conftest import OWNER, World
from tests.sandbox.test_pulls import checked_github

VAULT = "vault"  # a private repository of the organisation


@pytest.fixture
async def vault(world: World) -> str:
    """``acme/vault`` (private), covered by the world's installation; user ``dev`` exists."""
    await world.admin.run(calls.create_repo(OWNER, VAULT, files={"a.txt": "a\n"}, private=True))
    await world.admin.run(
        calls.change_installation_repositories(world.installation_id, add=[VAULT])
    )
    await world.admin.run(calls.create_user("dev"))
    await world.admin.run(calls.create_team(OWNER, "Deployers"))
    return VAULT


def team_grant(permission: str, state: str = "active") -> list[Call[Any]]:
    return [
        calls.grant_team_repo(OWNER, "deployers", OWNER, VAULT, permission),
        calls.add_team_member(OWNER, "deployers", "dev", state=state),
    ]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param([], ("none", "none"), id="no-grant-private-repo"),
        pytest.param([calls.add_org_member(OWNER, "dev")], ("read", "read"), id="member-base-read"),
        pytest.param(
            [calls.set_base_permission(OWNER, "none"), calls.add_org_member(OWNER, "dev")],
            ("none", "none"),
            id="member-base-none",
        ),
        pytest.param(
            [calls.set_base_permission(OWNER, "write"), calls.add_org_member(OWNER, "dev")],
            ("write", "write"),
            id="member-base-write",
        ),
        pytest.param(
            [calls.add_org_member(OWNER, "dev", role="admin")], ("admin", "admin"), id="org-owner"
        ),
        pytest.param(
            [
                calls.set_base_permission(OWNER, "admin"),
                calls.grant_role(OWNER, VAULT, "dev", "write"),
            ],
            ("write", "write"),
            id="outside-collaborator-no-base",
        ),
        pytest.param(team_grant("push"), ("write", "write"), id="team-push"),
        pytest.param(team_grant("maintain"), ("write", "maintain"), id="team-maintain"),
        pytest.param(
            [calls.set_base_permission(OWNER, "none"), *team_grant("triage")],
            ("read", "triage"),
            id="team-triage",
        ),
        pytest.param(team_grant("push", state="pending"), ("none", "none"), id="team-pending"),
        pytest.param(
            [calls.grant_role(OWNER, VAULT, "dev", "read"), *team_grant("maintain")],
            ("write", "maintain"),
            id="highest-wins-team",
        ),
        pytest.param(
            [calls.grant_role(OWNER, VAULT, "dev", "admin"), *team_grant("pull")],
            ("admin", "admin"),
            id="highest-wins-direct",
        ),
    ],
)
async def test_permission_counts_every_grant(
    world: World, vault: str, setup: list[Call[Any]], expected: tuple[str, str]
) -> None:
    for call in setup:
        await world.admin.run(call)
    async with checked_github(world) as gh:
        found = await gh.rest.repos.async_get_collaborator_permission_level(OWNER, vault, "dev")
    data = found.parsed_data
    assert (data.permission, data.role_name) == expected
    assert data.user is not None and data.user.role_name == expected[1]


async def test_permission_of_unknown_user_is_404(world: World) -> None:
    async with checked_github(world) as gh:
        with pytest.raises(RequestFailed) as failed:
            await gh.rest.repos.async_get_collaborator_permission_level(OWNER, "env", "nobody")
    assert failed.value.response.status_code == 404


async def test_team_grants_open_the_repository_to_active_members_only(
    world: World, vault: str
) -> None:
    """The grants are real access, not only an answer of the permission endpoint: an active
    team member with ``push`` reads and writes; a pending one cannot see the repository."""
    await world.admin.run(calls.set_base_permission(OWNER, "none"))
    pending = await world.admin.run(calls.create_user("newcomer"))
    dev = await world.admin.run(calls.create_user("dev2"))
    await world.admin.run(calls.grant_team_repo(OWNER, "deployers", OWNER, vault, "push"))
    await world.admin.run(calls.add_team_member(OWNER, "deployers", "dev2"))
    await world.admin.run(calls.add_team_member(OWNER, "deployers", "newcomer", state="pending"))
    async with world.token_github(dev.token) as gh:
        repo = (await gh.rest.repos.async_get(OWNER, vault)).parsed_data
        assert repo.permissions is not None and repo.permissions.push
    async with world.token_github(pending.token) as gh:
        with pytest.raises(RequestFailed) as hidden:
            await gh.rest.repos.async_get(OWNER, vault)
    assert hidden.value.response.status_code == 404


@pytest.mark.parametrize(
    ("state", "login", "expected"),
    [("active", "alice", "active"), ("pending", "alice", "pending"), ("active", "bob", None)],
)
async def test_team_membership_state(
    world: World, state: str, login: str, expected: str | None
) -> None:
    for name in ("alice", "bob"):
        await world.admin.run(calls.create_user(name))
    team = await world.admin.run(calls.create_team(OWNER, "Release Managers"))
    added = await world.admin.run(calls.add_team_member(OWNER, team["slug"], "alice", state=state))
    assert added["state"] == state
    async with checked_github(world) as gh:
        try:
            found = await gh.rest.teams.async_get_membership_for_user_in_org(
                OWNER, team["slug"], login
            )
        except RequestFailed as failed:
            assert failed.response.status_code == 404
            assert expected is None
        else:
            assert (found.parsed_data.state, found.parsed_data.role) == (expected, "member")


async def test_pending_member_becomes_active(world: World, vault: str) -> None:
    """Accepting the invitation (the same call with ``active``) makes the grants count."""
    await world.admin.run(calls.set_base_permission(OWNER, "none"))
    for call in team_grant("push", state="pending"):
        await world.admin.run(call)
    await world.admin.run(calls.add_team_member(OWNER, "deployers", "dev"))
    async with checked_github(world) as gh:
        found = await gh.rest.repos.async_get_collaborator_permission_level(OWNER, vault, "dev")
    assert found.parsed_data.role_name == "write"
