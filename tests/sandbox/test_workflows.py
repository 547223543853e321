"""GitHub refuses an App without the ``workflows`` permission any ref change that creates or
updates ``.github/workflows/*``: "refusing to allow a GitHub App to create or update workflow
`.github/workflows/NAME` without `workflows` permission" (403; reported for ``git push`` and for
``PUT pulls/{n}/update-branch`` bringing a workflow change in from the base, e.g.
chdsbd/kodiak#853, Mergifyio/mergify#5055). The sandbox judges a move by the old tip against the
new one, a creation by the commits no ref reached before."""

from __future__ import annotations

import pytest
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_git_semantics import commit_on_main

WORKFLOW = ".github/workflows/ci.yml"


async def test_a_ref_move_that_brings_in_a_workflow_change_is_refused(world: World) -> None:
    async with world.installation_github() as gh:
        _, old = await commit_on_main(gh, "promote", {"apps/web/values.yaml": "tag: 1.1.0\n"})
        await gh.rest.git.async_create_ref(OWNER, REPO, ref="refs/heads/promo", sha=old)
        # A person changes a workflow on main; the App's new commit on main's head does not.
        await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files={WORKFLOW: "on: push\n"}))
        _, new = await commit_on_main(gh, "promote", {"apps/web/values.yaml": "tag: 1.2.0\n"})
        with pytest.raises(RequestFailed) as refused:
            await gh.rest.git.async_update_ref(OWNER, REPO, "heads/promo", sha=new, force=True)
        # Creating a branch there is no workflow change: its only new commit does not touch one.
        created = await gh.rest.git.async_create_ref(OWNER, REPO, ref="refs/heads/fresh", sha=new)
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["message"] == (
        f"refusing to allow a GitHub App to create or update workflow `{WORKFLOW}` "
        "without `workflows` permission"
    )
    assert created.status_code == 201


async def test_an_app_commit_that_changes_a_workflow_cannot_land(world: World) -> None:
    async with world.installation_github() as gh:
        _, sha = await commit_on_main(gh, "ci", {WORKFLOW: "on: pull_request\n"})
        with pytest.raises(RequestFailed) as created:
            await gh.rest.git.async_create_ref(OWNER, REPO, ref="refs/heads/ci", sha=sha)
        with pytest.raises(RequestFailed) as moved:
            await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
    assert created.value.response.status_code == moved.value.response.status_code == 403


async def test_moves_without_workflow_changes_and_users_are_not_judged(world: World) -> None:
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files={WORKFLOW: "on: push\n"}))
    async with world.installation_github() as gh:
        _, sha = await commit_on_main(gh, "edit", {"README.md": "new\n"})
        moved = await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
    assert moved.status_code == 200
