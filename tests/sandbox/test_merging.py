"""GitHub's merge rules as the sandbox plays them: ``mergeable`` is null while GitHub computes
it, a REST merge in that window answers 405 "Base branch was modified", and each repository
allows its own merge methods."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import (
    Client,
    MergeMethod,
    checked_github,
    hooks_of,
    open_feature,
    push_branch,
    settle,
)

BASE_MODIFIED = "Base branch was modified. Review and try the merge again."


@pytest.fixture
async def gh(world: World) -> AsyncIterator[Client]:
    async with checked_github(world) as client:
        yield client


async def mergeable(gh: Client, number: int) -> tuple[bool | None, str]:
    pull = (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data
    return pull.mergeable, pull.mergeable_state


async def refusal(gh: Client, number: int, method: MergeMethod = "merge") -> tuple[int, str]:
    with pytest.raises(RequestFailed) as refused:
        await gh.rest.pulls.async_merge(OWNER, REPO, number, merge_method=method)
    return refused.value.response.status_code, refused.value.response.json()["message"]


async def test_mergeable_is_null_until_computed_after_open_and_synchronize(
    gh: Client, world: World
) -> None:
    """[OA pulls/get]: "The value of the `mergeable` attribute can be `true`, `false`, or
    `null`. If the value is `null`, then GitHub has started a background job to compute the
    mergeability"; the ``opened`` and ``synchronize`` payloads carry ``mergeable: null``,
    ``mergeable_state: "unknown"`` (``corpus/webhooks`` pull_request examples)."""
    number = await open_feature(gh, world)
    assert await mergeable(gh, number) == (None, "unknown")
    settle(world)
    assert await mergeable(gh, number) == (True, "clean")
    await push_branch(world, "feature", {"README.md": "# env 2\n"})
    assert await mergeable(gh, number) == (None, "unknown")
    settle(world)
    assert await mergeable(gh, number) == (True, "clean")
    await push_branch(world, "main", {"other.txt": "base moved\n"})  # base moves: recomputed
    assert await mergeable(gh, number) == (None, "unknown")
    hooks = [h for h in await hooks_of(world, "pull_request") if h["action"] != "closed"]
    assert [(h["action"], h["pull_request"]["mergeable"]) for h in hooks] == [
        ("opened", None),
        ("synchronize", None),
    ]


async def test_merge_right_after_open_or_synchronize_answers_base_branch_modified(
    gh: Client, world: World
) -> None:
    """API clients report 405 "Base branch was modified. Review and try the merge again." for a
    merge right after a pull request is opened or updated (``notes/github-facts.md``); [OA
    pulls/merge] 405 "Method Not Allowed if merge cannot be performed". A later try merges."""
    number = await open_feature(gh, world)
    assert await refusal(gh, number) == (405, BASE_MODIFIED)
    settle(world)
    await push_branch(world, "feature", {"README.md": "# env 2\n"})
    assert await refusal(gh, number) == (405, BASE_MODIFIED)
    settle(world)
    merged = await gh.rest.pulls.async_merge(OWNER, REPO, number)
    assert merged.parsed_data.merged


async def test_a_persons_merge_in_the_web_ui_waits_for_the_merge_box(
    gh: Client, world: World
) -> None:
    """People's acts stand for the web UI, which shows the merge button once computed."""
    number = await open_feature(gh, world)
    merged = await world.admin.run(calls.ActAs(OWNER).merge(OWNER, REPO, number))
    assert merged["merged"] is True


@pytest.mark.parametrize(
    ("allowed", "method", "message"),
    [
        ({"squash": False}, "squash", "Squash merges are not allowed on this repository."),
        ({"merge": False}, "merge", "Merge commits are not allowed on this repository."),
        ({"rebase": False}, "rebase", "Rebase merges are not allowed on this repository."),
    ],
)
async def test_repository_allowed_merge_methods_and_their_405s(
    gh: Client, world: World, allowed: dict[str, bool], method: MergeMethod, message: str
) -> None:
    """[OA repos/get] ``allow_squash_merge``, ``allow_merge_commit``, ``allow_rebase_merge``
    (also in ``GET /installation/repositories`` [OA apps/list-repos-accessible-to-installation],
    whose items are ``repository``); a disallowed method answers 405 [OA pulls/merge], e.g.
    "Squash merges are not allowed on this repository."."""
    await world.admin.run(calls.merge_settings(OWNER, REPO, **allowed))
    repo = (await gh.rest.repos.async_get(OWNER, REPO)).parsed_data
    shown = {
        "merge": repo.allow_merge_commit,
        "squash": repo.allow_squash_merge,
        "rebase": repo.allow_rebase_merge,
    }
    assert shown == {"merge": True, "squash": True, "rebase": True, **allowed}
    listed = await gh.rest.apps.async_list_repos_accessible_to_installation()
    (item,) = listed.parsed_data.repositories
    assert item.allow_squash_merge is shown["squash"]
    number = await open_feature(gh, world)
    settle(world)
    assert await refusal(gh, number, method) == (405, message)
    methods: tuple[MergeMethod, ...] = ("squash", "merge", "rebase")
    other = next(m for m in methods if m != method)
    merged = await gh.rest.pulls.async_merge(OWNER, REPO, number, merge_method=other)
    assert merged.parsed_data.merged
