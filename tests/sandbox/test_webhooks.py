"""Every payload the sandbox sends is signed, parses with githubkit and is recorded; deliveries
can be listed and redelivered through the App API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from githubkit import AppAuthStrategy
from githubkit.webhooks import parse, verify

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World


async def delivered(world: World) -> list[dict[str, Any]]:
    assert await world.admin.run(calls.flush_deliveries())
    return await world.admin.run(calls.sink("hooks"))


def events_of(received: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(r["headers"]["x-github-event"], json.loads(r["body"]).get("action")) for r in received]


async def trigger_release(world: World, prerelease: bool) -> None:
    async with world.installation_github() as gh:
        await gh.rest.repos.async_create_release(
            OWNER, REPO, tag_name="v2.0.0-rc.1" if prerelease else "v2.0.0", prerelease=prerelease
        )


async def trigger_branch_push(world: World, _: bool) -> None:
    await world.admin.run(
        calls.push(
            OWNER,
            REPO,
            pusher=OWNER,
            branch="feature",
            files={"apps/web/values.yaml": "image:\n  tag: 2.0.0\n"},
        )
    )


async def trigger_package(world: World, multi: bool) -> None:
    platforms = ["linux/amd64", "linux/arm64"] if multi else []
    await world.admin.run(
        calls.publish_package(OWNER, "web", repository=REPO, tag="1.2.3", platforms=platforms)
    )


@pytest.mark.parametrize(
    ("trigger", "flag", "expected"),
    [
        (
            trigger_release,
            False,
            [
                ("create", None),
                ("push", None),
                ("release", "created"),
                ("release", "published"),
                ("release", "released"),
            ],
        ),
        (
            trigger_release,
            True,
            [
                ("create", None),
                ("push", None),
                ("release", "created"),
                ("release", "published"),
                ("release", "prereleased"),
            ],
        ),
        (trigger_branch_push, False, [("create", None), ("push", None)]),
        (trigger_package, False, [("package", "published"), ("registry_package", "published")]),
    ],
)
async def test_payloads_parse_and_verify(
    world: World, trigger: Any, flag: bool, expected: list[tuple[str, Any]]
) -> None:
    await trigger(world, flag)
    received = (await delivered(world))[1:]  # the first one is `installation` created
    assert sorted(events_of(received), key=str) == sorted(expected, key=str)
    for hook in received:
        headers, body = hook["headers"], hook["body"].encode()
        assert verify(world.app.webhook_secret, body, headers["x-hub-signature-256"])
        assert verify(world.app.webhook_secret, body, headers["x-hub-signature"])
        event = parse(headers["x-github-event"], body)
        assert event.installation is not None and event.installation.id == world.installation_id
        assert headers["user-agent"] == "GitHub-Hookshot/sandbox"
        assert headers["x-github-hook-installation-target-id"] == str(world.app.id)


async def test_installation_created_parses(world: World) -> None:
    first = (await delivered(world))[0]
    event = parse("installation", first["body"].encode())
    assert event.action == "created"
    assert [r.name for r in event.repositories or []] == [REPO]


async def test_multi_platform_push_fires_one_event_per_manifest(world: World) -> None:
    await trigger_package(world, True)
    received = [
        r for r in await delivered(world) if r["headers"]["x-github-event"] == "registry_package"
    ]
    tags = [json.loads(r["body"])["registry_package"]["package_version"] for r in received]
    for r in received:
        parse("registry_package", r["body"].encode())
    assert [v["container_metadata"]["tag"]["name"] for v in tags] == ["", "", "1.2.3"]


async def test_more_than_three_tags_send_no_create(world: World) -> None:
    tags = {f"v1.0.{i}": "main" for i in range(4)}
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, tags=tags))
    assert events_of((await delivered(world))[1:]) == []
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, tags={"v9": "main"}))
    assert sorted(events_of((await delivered(world))[1:]), key=str) == [
        ("create", None),
        ("push", None),
    ]


async def test_push_through_api_lists_commits(world: World) -> None:
    async with world.installation_github() as gh:
        ref = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        head = (await gh.rest.git.async_get_commit(OWNER, REPO, ref.object_.sha)).parsed_data
        commit = await gh.rest.git.async_create_commit(
            OWNER, REPO, message="empty", tree=head.tree.sha, parents=[ref.object_.sha]
        )
        await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=commit.parsed_data.sha)
    push = next(r for r in await delivered(world) if r["headers"]["x-github-event"] == "push")
    event = parse("push", push["body"].encode())
    assert [c.message for c in event.commits] == ["empty"]
    assert json.loads(push["body"])["sender"]["login"] == "promoter[bot]"


async def test_deliveries_listed_filtered_and_redelivered(world: World) -> None:
    await trigger_branch_push(world, False)
    await delivered(world)
    async with world.app_github() as gh:
        listed = (await gh.rest.apps.async_list_webhook_deliveries(per_page=2)).parsed_data
        assert [d.event for d in listed] == ["create", "push"]
        ok = (await gh.rest.apps.async_list_webhook_deliveries(status="success")).parsed_data
        assert len(ok) == 3
        failed = (await gh.rest.apps.async_list_webhook_deliveries(status="failure")).parsed_data
        assert failed == []
        page2 = await gh.rest.apps.async_list_webhook_deliveries(
            per_page=2, cursor=str(listed[-1].id)
        )
        assert [d.event for d in page2.parsed_data] == ["installation"]
        one = (await gh.rest.apps.async_get_webhook_delivery(listed[0].id)).parsed_data
        assert (one.request.payload.model_extra or {})["ref"] == "feature"
        await gh.rest.apps.async_redeliver_webhook_delivery(listed[0].id)
        received = await delivered(world)
        again = (await gh.rest.apps.async_list_webhook_deliveries(per_page=1)).parsed_data[0]
    assert again.redelivery is True and again.guid == listed[0].guid
    assert received[-1]["headers"]["x-github-delivery"] == listed[0].guid
    assert again.status == "OK" and again.status_code == 200


async def test_installation_repositories_added_and_removed(world: World) -> None:
    await world.admin.run(calls.create_repo(OWNER, "other", files={"a": "b"}))
    change = calls.change_installation_repositories
    await world.admin.run(change(world.installation_id, add=["other"]))
    await world.admin.run(change(world.installation_id, remove=[REPO]))
    received = (await delivered(world))[1:]
    events = [parse("installation_repositories", r["body"].encode()) for r in received]
    assert [e.action for e in events] == ["added", "removed"]
    assert [r.name for r in events[0].repositories_added] == ["other"]
    assert [r.name for r in events[1].repositories_removed] == [REPO]
    async with world.installation_github() as gh:
        repos = (await gh.rest.apps.async_list_repos_accessible_to_installation()).parsed_data
    assert [r.name for r in repos.repositories] == ["other"]


async def test_live_delivery_over_http(live_world: World) -> None:
    await trigger_branch_push(live_world, False)
    received = await delivered(live_world)
    assert [r["headers"]["x-github-event"] for r in received] == ["installation", "push", "create"]
    for hook in received:
        body = hook["body"].encode()
        assert verify(live_world.app.webhook_secret, body, hook["headers"]["x-hub-signature-256"])


async def test_failed_delivery_is_recorded_and_filtered(world: World) -> None:
    app = await world.admin.run(
        calls.create_app(
            "broken", owner=OWNER, webhook_url=f"{world.base_url}/nowhere", events=["push"]
        )
    )
    await world.admin.run(calls.install_app(app.id, OWNER, repositories=[REPO]))
    assert await world.admin.run(calls.flush_deliveries())
    broken = world.app_github().with_auth(AppAuthStrategy(app.id, app.pem))
    async with broken as gh:
        failed = (await gh.rest.apps.async_list_webhook_deliveries(status="failure")).parsed_data
        ok = (await gh.rest.apps.async_list_webhook_deliveries(status="success")).parsed_data
    assert [(d.event, d.status, d.status_code) for d in failed] == [
        ("installation", "Invalid HTTP Response: 404", 404)
    ]
    assert ok == []
