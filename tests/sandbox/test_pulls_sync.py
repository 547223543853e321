"""``synchronize`` follows every move of a pull request's head branch at once, whichever way the
branch moved, with the pusher as sender; nothing reads the pull request in between."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import Client, checked_github, hooks_of, open_feature, push_branch

BOT = "promoter[bot]"
# Moves ``feature`` (the head of pull request #1) and names who pushed.
Move = Callable[[Client, World], Awaitable[str]]


@pytest.fixture
async def gh(world: World) -> AsyncIterator[Client]:
    async with checked_github(world) as client:
        yield client


async def git_data_api(gh: Client, world: World) -> str:
    tip = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/feature")).parsed_data.object_.sha
    tree = (await gh.rest.git.async_get_commit(OWNER, REPO, tip)).parsed_data.tree.sha
    commit = await gh.rest.git.async_create_commit(
        OWNER, REPO, message="empty", tree=tree, parents=[tip]
    )
    await gh.rest.git.async_update_ref(OWNER, REPO, "heads/feature", sha=commit.parsed_data.sha)
    return BOT


async def contents_api(gh: Client, world: World) -> str:
    content = base64.b64encode(b"new\n").decode()
    await gh.rest.repos.async_create_or_update_file_contents(
        OWNER, REPO, "NEW.md", message="add", content=content, branch="feature"
    )
    return BOT


async def admin_push(gh: Client, world: World) -> str:
    await push_branch(world, "feature", {"README.md": "# pushed\n"})
    return OWNER


async def merge_into_head(gh: Client, world: World) -> str:
    await push_branch(world, "topic", {"TOPIC.md": "topic\n"})
    opened = await world.admin.run(
        calls.ActAs(OWNER).open_pull(OWNER, REPO, head="topic", base="feature", title="Topic")
    )
    await world.admin.run(calls.ActAs(OWNER).merge(OWNER, REPO, opened["number"]))
    return OWNER


@pytest.mark.parametrize(
    "move", [git_data_api, contents_api, admin_push, merge_into_head], ids=lambda m: m.__name__
)
async def test_head_moves_send_synchronize_at_once(gh: Client, world: World, move: Move) -> None:
    number = await open_feature(gh, world)
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    before = world.sandbox.git(repo).ref_sha("refs/heads/feature")
    pusher = await move(gh, world)
    after = world.sandbox.git(repo).ref_sha("refs/heads/feature")
    synced = [
        h
        for h in await hooks_of(world, "pull_request")
        if h["action"] == "synchronize" and h["number"] == number
    ]
    assert [(h["before"], h["after"], h["sender"]["login"]) for h in synced] == [
        (before, after, pusher)
    ]
    assert synced[0]["pull_request"]["head"]["sha"] == after


async def test_push_event_comes_first_and_base_moves_send_nothing(gh: Client, world: World) -> None:
    await open_feature(gh, world)
    await push_branch(world, "main", {"README.md": "# main moved\n"})
    await push_branch(world, "feature", {"README.md": "# feature moved\n"})
    hooks = [
        (h["event"], h.get("action"), h.get("ref"))
        for h in await hooks_of(world)
        if h["event"] in ("push", "pull_request")
    ]
    assert hooks[-4:] == [
        ("pull_request", "opened", None),
        ("push", None, "refs/heads/main"),
        ("push", None, "refs/heads/feature"),
        ("pull_request", "synchronize", None),
    ]
