"""Issues, comments, labels and reactions through githubkit, with their webhooks; pull requests
are issues too (one number sequence, ``pull_request`` set in lists and comment events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import Client, checked_github, hooks_of, open_feature, parsed_list


@pytest.fixture
async def gh(world: World) -> AsyncIterator[Client]:
    async with checked_github(world) as client:
        yield client


async def test_numbers_shared_and_pulls_listed_as_issues(gh: Client, world: World) -> None:
    first = (await gh.rest.issues.async_create(OWNER, REPO, title="drift")).parsed_data
    pull_number = await open_feature(gh, world)
    third = (await gh.rest.issues.async_create(OWNER, REPO, title="later")).parsed_data
    assert (first.number, pull_number, third.number) == (1, 2, 3)
    listed = parsed_list(await gh.rest.issues.async_list_for_repo(OWNER, REPO))
    assert [(i.number, bool(i.pull_request)) for i in listed] == [(3, False), (2, True), (1, False)]
    assert first.html_url == f"{world.base_url}/{OWNER}/{REPO}/issues/1"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [2, 1]),
        ({"state": "closed"}, [3]),
        ({"state": "all", "direction": "asc"}, [1, 2, 3]),
        ({"labels": "drift"}, [1]),
        ({"labels": "drift,prod"}, []),
        ({"creator": "promoter[bot]", "state": "all"}, [3, 2, 1]),
        ({"creator": "someone"}, []),
        ({"since": "2000-01-01T00:00:00Z"}, [2, 1]),
        ({"since": "2999-01-01T00:00:00Z"}, []),
    ],
)
async def test_list_filters(gh: Client, query: dict[str, str], expected: list[int]) -> None:
    await gh.rest.issues.async_create(OWNER, REPO, title="one", labels=["drift"])
    await gh.rest.issues.async_create(OWNER, REPO, title="two")
    await gh.rest.issues.async_create(OWNER, REPO, title="three")
    await gh.rest.issues.async_update(OWNER, REPO, 3, state="closed")
    listed = parsed_list(await gh.rest.issues.async_list_for_repo(OWNER, REPO, **query))  # type: ignore[arg-type]
    assert [i.number for i in listed] == expected


async def test_issue_lifecycle_events(gh: Client, world: World) -> None:
    issue = (await gh.rest.issues.async_create(OWNER, REPO, title="t", body="b")).parsed_data
    await gh.rest.issues.async_update(OWNER, REPO, issue.number, title="t2")
    labels = await gh.rest.issues.async_add_labels(OWNER, REPO, issue.number, labels=["prod"])
    assert [label.name for label in parsed_list(labels)] == ["prod"]
    closed = await gh.rest.issues.async_update(OWNER, REPO, issue.number, state="closed")
    assert (closed.parsed_data.state, closed.parsed_data.state_reason) == ("closed", "completed")
    got = (await gh.rest.issues.async_get(OWNER, REPO, issue.number)).parsed_data
    assert (got.title, [lb.name for lb in got.labels if not isinstance(lb, str)]) == (
        "t2",
        ["prod"],
    )
    hooks = await hooks_of(world, "issues")
    assert [h["action"] for h in hooks] == ["opened", "edited", "labeled", "closed"]
    assert hooks[1]["changes"] == {"title": {"from": "t"}}
    assert hooks[2]["label"]["name"] == "prod"


async def test_comments_edit_delete_and_events(gh: Client, world: World) -> None:
    number = await open_feature(gh, world)
    created = await gh.rest.issues.async_create_comment(OWNER, REPO, number, body="/promote")
    comment_id = created.parsed_data.id
    await gh.rest.issues.async_update_comment(OWNER, REPO, comment_id, body="/hold")
    got = (await gh.rest.issues.async_get_comment(OWNER, REPO, comment_id)).parsed_data
    assert got.body == "/hold"
    listed = parsed_list(await gh.rest.issues.async_list_comments(OWNER, REPO, number))
    assert [c.id for c in listed] == [comment_id]
    await gh.rest.issues.async_delete_comment(OWNER, REPO, comment_id)
    assert parsed_list(await gh.rest.issues.async_list_comments(OWNER, REPO, number)) == []
    hooks = await hooks_of(world, "issue_comment")
    assert [h["action"] for h in hooks] == ["created", "edited", "deleted"]
    assert all(h["issue"]["pull_request"]["url"].endswith(f"/pulls/{number}") for h in hooks)
    assert hooks[1]["changes"] == {"body": {"from": "/promote"}}


async def test_labels_and_reactions(gh: Client, world: World) -> None:
    made = await gh.rest.issues.async_create_label(OWNER, REPO, name="prod", color="ff0000")
    assert (made.status_code, made.parsed_data.color) == (201, "ff0000")
    number = await open_feature(gh, world)
    await gh.rest.issues.async_add_labels(OWNER, REPO, number, labels=["prod", "hold"])
    left = await gh.rest.issues.async_remove_label(OWNER, REPO, number, "hold")
    assert [label.name for label in parsed_list(left)] == ["prod"]
    on_issue = parsed_list(await gh.rest.issues.async_list_labels_on_issue(OWNER, REPO, number))
    assert [label.name for label in on_issue] == ["prod"]
    names = [
        lb.name for lb in parsed_list(await gh.rest.issues.async_list_labels_for_repo(OWNER, REPO))
    ]
    assert names == ["prod", "hold"]
    pull_hooks = await hooks_of(world, "pull_request")
    assert [h["action"] for h in pull_hooks] == ["opened", "labeled", "labeled", "unlabeled"]
    comment = (await gh.rest.issues.async_create_comment(OWNER, REPO, number, body="x")).parsed_data
    first = await gh.rest.reactions.async_create_for_issue_comment(
        OWNER, REPO, comment.id, content="eyes"
    )
    again = await gh.rest.reactions.async_create_for_issue_comment(
        OWNER, REPO, comment.id, content="eyes"
    )
    assert (first.status_code, again.status_code, again.parsed_data.id) == (
        201,
        200,
        first.parsed_data.id,
    )
    reactions = parsed_list(
        await gh.rest.reactions.async_list_for_issue_comment(OWNER, REPO, comment.id)
    )
    assert [r.content for r in reactions] == ["eyes"]
    fetched = (await gh.rest.issues.async_get_comment(OWNER, REPO, comment.id)).parsed_data
    assert fetched.model_dump()["reactions"]["eyes"] == 1


@pytest.mark.parametrize("where", ["issue", "comment", "edit"])
async def test_body_too_long(gh: Client, where: str) -> None:
    issue = (await gh.rest.issues.async_create(OWNER, REPO, title="t")).parsed_data
    long_body = "x" * 65537
    with pytest.raises(RequestFailed) as failed:
        if where == "issue":
            await gh.rest.issues.async_create(OWNER, REPO, title="t", body=long_body)
        elif where == "comment":
            await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body=long_body)
        else:
            await gh.rest.issues.async_update(OWNER, REPO, issue.number, body=long_body)
    assert failed.value.response.status_code == 422
    assert "Body is too long (maximum is 65536 characters)" in failed.value.response.text
    fits = await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body="y" * 65536)
    assert fits.status_code == 201


async def test_reaction_statuses(world: World) -> None:
    """OpenAPI ``reactions/create-for-issue-comment``: "A response with an HTTP ``200`` status
    means that you already added the reaction type to this issue comment"; 201 "Reaction
    created"; 422 for a content outside ``+1 -1 laugh confused heart hooray rocket eyes``."""
    async with checked_github(world) as gh:
        issue = (await gh.rest.issues.async_create(OWNER, REPO, title="t")).parsed_data
        made = await gh.rest.issues.async_create_comment(OWNER, REPO, issue.number, body="x")
    path = f"/repos/{OWNER}/{REPO}/issues/comments/{made.parsed_data.id}/reactions"
    dev = await world.admin.run(calls.create_user("dev"))
    statuses = []
    cases: list[tuple[GitHub[Any], str]] = [
        (world.installation_github(), "eyes"),
        (world.installation_github(), "eyes"),
        (world.installation_github(), "rocket"),
        (world.token_github(dev.token), "eyes"),
        (world.token_github(dev.token), "confused"),
        (world.token_github(dev.token), "+1"),
        (world.token_github(dev.token), "+1"),
        (world.token_github(dev.token), "thumbsup"),
    ]
    for client, content in cases:
        async with client as gh:
            try:
                statuses.append(
                    (await gh.arequest("POST", path, json={"content": content})).status_code
                )
            except RequestFailed as failed:
                statuses.append(failed.response.status_code)
    assert statuses == [201, 200, 201, 201, 201, 201, 200, 422]
    async with checked_github(world) as gh:
        got = (await gh.rest.issues.async_get_comment(OWNER, REPO, made.parsed_data.id)).parsed_data
    counts = got.model_dump(by_alias=True)["reactions"]
    assert (counts["total_count"], counts["eyes"], counts["+1"]) == (5, 2, 1)


async def test_patch_and_put_replace_labels_post_adds(gh: Client, world: World) -> None:
    """GitHub's label semantics: ``PATCH issues/{n}`` with ``labels`` replaces the set and
    ``[]`` clears it [OA issues/update: "Pass one or more labels to _replace_ the set of labels
    on this issue"]; ``PUT issues/{n}/labels`` replaces [OA issues/set-labels]; ``POST`` adds
    [OA issues/add-labels]."""

    async def names() -> list[str]:
        listed = await gh.rest.issues.async_list_labels_on_issue(OWNER, REPO, number)
        return sorted(label.name for label in parsed_list(listed))

    number = await open_feature(gh, world)
    await gh.rest.issues.async_add_labels(OWNER, REPO, number, labels=["promotion"])
    await gh.rest.issues.async_add_labels(OWNER, REPO, number, labels=["do-not-merge"])
    assert await names() == ["do-not-merge", "promotion"]
    await gh.rest.issues.async_update(OWNER, REPO, number, title="t", labels=["promotion"])
    assert await names() == ["promotion"]
    await gh.rest.issues.async_update(OWNER, REPO, number, labels=[])
    assert await names() == []
    await gh.rest.issues.async_set_labels(OWNER, REPO, number, labels=["a", "b"])
    await gh.rest.issues.async_set_labels(OWNER, REPO, number, labels=["b", "c"])
    assert await names() == ["b", "c"]
    await gh.rest.issues.async_add_labels(OWNER, REPO, number, labels=["b", "d"])
    assert await names() == ["b", "c", "d"]
    await gh.rest.issues.async_update(OWNER, REPO, number, title="no labels field")
    assert await names() == ["b", "c", "d"]
    hooks = [h for h in await hooks_of(world, "pull_request") if "label" in h]
    assert [(h["action"], h["label"]["name"]) for h in hooks][-4:] == [
        ("labeled", "b"),
        ("unlabeled", "a"),
        ("labeled", "c"),
        ("labeled", "d"),
    ]
