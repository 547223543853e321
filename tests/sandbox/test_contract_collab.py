"""Contract: pull requests, issues, comments, labels, reactions, check runs and permissions."""

from __future__ import annotations

import pytest

from github_sandbox import admin_client as calls
from github_sandbox.admin_client import add_team_member, create_team
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.openapi_check import run_contract

PR_BRANCH = "contract/promote-web"


async def pull_requests(world: World) -> None:
    await world.admin.run(
        calls.push(OWNER, REPO, pusher=OWNER, branch=PR_BRANCH, files={"pr.txt": "pr\n"})
    )
    async with world.installation_github() as gh:
        pulls = gh.rest.pulls
        created = await pulls.async_create(
            OWNER, REPO, title="Promote web", head=PR_BRANCH, base="main", body="contract"
        )
        number = created.parsed_data.number
        assert created.status_code == 201 and created.parsed_data.head.ref == PR_BRANCH
        listed = (await pulls.async_list(OWNER, REPO, state="open")).parsed_data
        assert [p.number for p in listed] == [number]
        assert (await pulls.async_get(OWNER, REPO, number)).parsed_data.title == "Promote web"
        edited = await pulls.async_update(OWNER, REPO, number, title="Promote web 1.4.2")
        assert edited.parsed_data.title == "Promote web 1.4.2"
        files = (await pulls.async_list_files(OWNER, REPO, number)).parsed_data
        assert [f.filename for f in files] == ["pr.txt"]
        world.sandbox.advance_clock(world.sandbox.mergeability_seconds)
        merged = (await pulls.async_merge(OWNER, REPO, number, merge_method="squash")).parsed_data
        assert merged.merged and merged.sha


async def issues_comments_labels_reactions(world: World) -> None:
    async with world.installation_github() as gh:
        issues = gh.rest.issues
        issue = (await issues.async_create(OWNER, REPO, title="Drift in prod")).parsed_data
        assert [i.number for i in (await issues.async_list_for_repo(OWNER, REPO)).parsed_data] == [
            issue.number
        ]
        assert (await issues.async_get(OWNER, REPO, issue.number)).parsed_data.state == "open"
        closed = await issues.async_update(OWNER, REPO, issue.number, state="closed")
        assert closed.parsed_data.state == "closed"
        comment = (
            await issues.async_create_comment(OWNER, REPO, issue.number, body="/promote prod")
        ).parsed_data
        listed = (await issues.async_list_comments(OWNER, REPO, issue.number)).parsed_data
        assert [c.id for c in listed] == [comment.id]
        edited = await issues.async_update_comment(OWNER, REPO, comment.id, body="- [x] prod")
        assert edited.parsed_data.body == "- [x] prod"
        reactions = gh.rest.reactions
        reaction = await reactions.async_create_for_issue_comment(
            OWNER, REPO, comment.id, content="rocket"
        )
        assert reaction.parsed_data.content == "rocket"
        seen = (await reactions.async_list_for_issue_comment(OWNER, REPO, comment.id)).parsed_data
        assert [r.content for r in seen] == ["rocket"]
        deleted = await issues.async_delete_comment(OWNER, REPO, comment.id)
        assert deleted.status_code == 204
        label = await issues.async_create_label(OWNER, REPO, name="promotion", color="0e8a16")
        assert (label.status_code, label.parsed_data.name) == (201, "promotion")
        names = [
            lb.name for lb in (await issues.async_list_labels_for_repo(OWNER, REPO)).parsed_data
        ]
        assert "promotion" in names
        added = await issues.async_add_labels(OWNER, REPO, issue.number, labels=["promotion"])
        assert [lb.name for lb in added.parsed_data] == ["promotion"]


async def check_runs(world: World) -> None:
    async with world.installation_github() as gh:
        head = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        checks = gh.rest.checks
        created = await checks.async_create(
            OWNER, REPO, name="promotion", head_sha=head.object_.sha, status="in_progress"
        )
        run_id = created.parsed_data.id
        updated = await checks.async_update(
            OWNER,
            REPO,
            run_id,
            status="completed",
            conclusion="action_required",
            output={"title": "Ready", "summary": "web 1.4.2 can go to prod"},
            actions=[{"label": "Promote", "description": "to prod", "identifier": "promote"}],
        )
        assert updated.parsed_data.conclusion == "action_required"
        assert (await checks.async_get(OWNER, REPO, run_id)).parsed_data.status == "completed"
        listed = (await checks.async_list_for_ref(OWNER, REPO, "main")).parsed_data
        assert [r.id for r in listed.check_runs] == [run_id]


async def collaborator_and_team_permissions(world: World) -> None:
    await world.admin.run(calls.create_user("rel-eng"))
    await world.admin.run(calls.grant_role(OWNER, REPO, "rel-eng", "maintain"))
    team = await world.admin.run(create_team(OWNER, "Release Managers"))
    await world.admin.run(add_team_member(OWNER, team["slug"], "rel-eng"))
    async with world.installation_github() as gh:
        level = await gh.rest.repos.async_get_collaborator_permission_level(OWNER, REPO, "rel-eng")
        assert (level.parsed_data.permission, level.parsed_data.role_name) == ("write", "maintain")
        membership = await gh.rest.teams.async_get_membership_for_user_in_org(
            OWNER, team["slug"], "rel-eng"
        )
        assert membership.parsed_data.state == "active"


SCENARIOS = (
    pull_requests,
    issues_comments_labels_reactions,
    check_runs,
    collaborator_and_team_permissions,
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_contract(world: World, scenario) -> None:
    await run_contract(world, [scenario])
