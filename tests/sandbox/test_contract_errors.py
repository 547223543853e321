"""Contract: documented error answers (404, 405, 409, 422) have GitHub's status and body shape.

Each case makes one failing call through githubkit; the validating transport checks that the
status is documented for the operation and that the body matches its schema (basic-error or
validation-error), and the test checks the status githubkit reports.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from githubkit import AppInstallationAuthStrategy, GitHub
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.openapi_check import run_contract

Installation = GitHub[AppInstallationAuthStrategy]
Call = Callable[[Installation, World], Awaitable[Any]]


async def main_sha(gh: Installation) -> str:
    return (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data.object_.sha


async def unrelated_commit(gh: Installation) -> str:
    """A root commit that shares no history with main."""
    main = (await gh.rest.git.async_get_commit(OWNER, REPO, await main_sha(gh))).parsed_data
    root = await gh.rest.git.async_create_commit(
        OWNER, REPO, message="root", tree=main.tree.sha, parents=[]
    )
    return root.parsed_data.sha


async def existing_ref(gh: Installation, world: World) -> Any:
    sha = await main_sha(gh)
    return await gh.rest.git.async_create_ref(OWNER, REPO, ref="refs/heads/main", sha=sha)


async def non_fast_forward(gh: Installation, world: World) -> Any:
    sha = await unrelated_commit(gh)
    return await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha, force=False)


async def stale_file_sha(gh: Installation, world: World) -> Any:
    return await gh.rest.repos.async_create_or_update_file_contents(
        OWNER,
        REPO,
        "README.md",
        message="stale",
        content=base64.b64encode(b"x\n").decode(),
        sha="0" * 40,
    )


async def merge_twice(gh: Installation, world: World) -> Any:
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, branch="twice", files={"t": "t"}))
    pr = await gh.rest.pulls.async_create(OWNER, REPO, title="t", head="twice", base="main")
    world.sandbox.advance_clock(world.sandbox.mergeability_seconds)
    await gh.rest.pulls.async_merge(OWNER, REPO, pr.parsed_data.number)
    return await gh.rest.pulls.async_merge(OWNER, REPO, pr.parsed_data.number)


CASES: list[tuple[str, Call, int]] = [
    ("missing ref", lambda gh, w: gh.rest.git.async_get_ref(OWNER, REPO, "heads/nope"), 404),
    ("ref exists", existing_ref, 422),
    ("non fast forward", non_fast_forward, 422),
    ("missing commit", lambda gh, w: gh.rest.git.async_get_commit(OWNER, REPO, "f" * 40), 404),
    (
        "bad base tree",
        lambda gh, w: gh.rest.git.async_create_tree(
            OWNER, REPO, base_tree="f" * 40, tree=[{"path": "a", "mode": "100644", "content": "a"}]
        ),
        422,
    ),
    (
        "bad base64 blob",
        lambda gh, w: gh.rest.git.async_create_blob(OWNER, REPO, content="abc", encoding="base64"),
        422,
    ),
    ("missing file", lambda gh, w: gh.rest.repos.async_get_content(OWNER, REPO, "no/such"), 404),
    ("stale file sha", stale_file_sha, 409),
    ("missing branch", lambda gh, w: gh.rest.repos.async_get_branch(OWNER, REPO, "nope"), 404),
    (
        "bad compare",
        lambda gh, w: gh.rest.repos.async_compare_commits(OWNER, REPO, "main...nope"),
        404,
    ),
    ("no latest release", lambda gh, w: gh.rest.repos.async_get_latest_release(OWNER, REPO), 404),
    (
        "missing release tag",
        lambda gh, w: gh.rest.repos.async_get_release_by_tag(OWNER, REPO, "v9"),
        404,
    ),
    (
        "pull from missing head",
        lambda gh, w: gh.rest.pulls.async_create(OWNER, REPO, title="x", head="nope", base="main"),
        422,
    ),
    ("merge twice", merge_twice, 405),
    ("missing issue", lambda gh, w: gh.rest.issues.async_get(OWNER, REPO, 999), 404),
    ("missing user", lambda gh, w: gh.rest.users.async_get_by_username("nobody-here"), 404),
    (
        "not a team member",
        lambda gh, w: gh.rest.teams.async_get_membership_for_user_in_org(OWNER, "nope", "x"),
        404,
    ),
]


@pytest.mark.parametrize(("call", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_documented_error(world: World, call: Call, status: int) -> None:
    async def scenario(checked: World) -> None:
        async with checked.installation_github() as gh:
            with pytest.raises(RequestFailed) as failure:
                await call(gh, checked)
        assert failure.value.response.status_code == status

    await run_contract(world, [scenario])
