"""Pull requests through githubkit: create, list, read, edit, files, commits, and merges that
write real commits on the base branch and send ``pull_request`` closed with ``merged: true``.

Every response of an operation in the trimmed OpenAPI description is validated against it.
The helpers at the top are shared with the other collaboration test modules.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import httpx
import pytest
from githubkit import AppInstallationAuthStrategy, GitHub, Response, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestFailed
from githubkit.webhooks import parse, verify

from github_sandbox import admin_client as calls
from github_sandbox.gitcore import run_git
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.openapi_check import OpenApiResponseHook, match_operation

MergeMethod = Literal["merge", "squash", "rebase"]
Client = GitHub[AppInstallationAuthStrategy | TokenAuthStrategy]


class DocumentedOnly(OpenApiResponseHook):
    """Validates responses of the operations the trimmed description holds; skips the rest."""

    async def async_hook(self, response: httpx.Response) -> None:
        try:
            match_operation(response.request.method, response.request.url.path)
        except AssertionError:
            return
        await super().async_hook(response)


def checked_github(world: World, token: str | None = None) -> Client:
    """A githubkit client (installation, or user ``token``) whose responses are validated."""
    hook = DocumentedOnly()
    auth: AppInstallationAuthStrategy | TokenAuthStrategy = (
        TokenAuthStrategy(token)
        if token
        else AppInstallationAuthStrategy(
            world.app.id, world.app.pem, installation_id=world.installation_id
        )
    )
    return GitHub(
        auth,
        base_url=world.base_url,
        async_transport=world.transport,
        cache_strategy=MemCacheStrategy(),
        auto_retry=False,
        http_cache=False,
        **hook.event_hooks(),
    )


def parsed_list(response: Response[Any, Any]) -> list[Any]:
    """``parsed_data`` of a list endpoint (githubkit's ``list`` annotations confuse mypy)."""
    return list(response.parsed_data)


async def hooks_of(world: World, event: str | None = None) -> list[dict[str, Any]]:
    """Delivered webhooks (event, action, payload), each verified and parsed by githubkit."""
    assert await world.admin.run(calls.flush_deliveries())
    found = []
    for hook in await world.admin.run(calls.sink("hooks")):
        name, body = hook["headers"]["x-github-event"], hook["body"].encode()
        assert verify(world.app.webhook_secret, body, hook["headers"]["x-hub-signature-256"])
        parse(name, body)
        if event in (None, name):
            found.append({"event": name, **json.loads(body)})
    return found


async def push_branch(world: World, branch: str, files: dict[str, str], message: str = "") -> str:
    result = await world.admin.run(
        calls.push(OWNER, REPO, pusher=OWNER, branch=branch, files=files, message=message or "x")
    )
    return result.updates[-1].after


def settle(world: World) -> None:
    """Let GitHub's background mergeability job finish (``mergeable`` is null and REST merges
    answer 405 "Base branch was modified" until then: ``tests/sandbox/test_merging.py``)."""
    world.sandbox.advance_clock(world.sandbox.mergeability_seconds)


async def open_feature(gh: Client, world: World, branch: str = "feature") -> int:
    await push_branch(world, branch, {"apps/web/values.yaml": "image:\n  tag: 2.0.0\n"})
    created = await gh.rest.pulls.async_create(
        OWNER, REPO, title=f"Promote {branch}", head=f"{OWNER}:{branch}", base="main", body="b"
    )
    return created.parsed_data.number


@pytest.fixture
async def gh(world: World) -> AsyncIterator[Client]:
    async with checked_github(world) as client:
        yield client


def git_log(world: World, ref: str) -> list[str]:
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    out = run_git(world.sandbox.git(repo).path, ["log", "--format=%P|%s", ref]).stdout.decode()
    return out.splitlines()


async def test_open_read_list_and_diff(gh: Client, world: World) -> None:
    number = await open_feature(gh, world)
    settle(world)
    pull = (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data
    assert (pull.state, pull.mergeable, pull.merged, pull.head.ref) == (
        "open",
        True,
        False,
        "feature",
    )
    assert pull.html_url == f"{world.base_url}/{OWNER}/{REPO}/pull/{number}"
    assert (pull.commits, pull.additions, pull.deletions, pull.changed_files) == (1, 1, 1, 1)
    files = parsed_list(await gh.rest.pulls.async_list_files(OWNER, REPO, number))
    assert [(f.filename, f.status, f.additions, f.deletions, f.changes) for f in files] == [
        ("apps/web/values.yaml", "modified", 1, 1, 2)
    ]
    assert files[0].patch is not None and "+  tag: 2.0.0" in files[0].patch
    commits = parsed_list(await gh.rest.pulls.async_list_commits(OWNER, REPO, number))
    assert [c.sha for c in commits] == [pull.head.sha]
    listed = parsed_list(await gh.rest.pulls.async_list(OWNER, REPO, head=f"{OWNER}:feature"))
    assert [p.number for p in listed] == [number]
    assert parsed_list(await gh.rest.pulls.async_list(OWNER, REPO, state="closed")) == []


@pytest.mark.parametrize(
    ("head", "base", "message"),
    [
        ("feature", "main", "A pull request already exists for acme:feature."),
        ("main", "main", "No commits between main and main"),
        ("missing", "main", "head branch not found head=missing"),
        ("feature", "missing", "base branch not found base=missing"),
    ],
)
async def test_create_refused(gh: Client, world: World, head: str, base: str, message: str) -> None:
    await open_feature(gh, world)
    with pytest.raises(RequestFailed) as failed:
        await gh.rest.pulls.async_create(OWNER, REPO, title="again", head=head, base=base)
    assert failed.value.response.status_code == 422
    assert failed.value.response.json()["errors"][0]["message"] == message


@pytest.mark.parametrize(
    ("method", "parents", "subject"),
    [
        ("merge", 2, "Merge pull request #1 from acme/feature"),
        ("squash", 1, "Promote feature (#1)"),
        ("rebase", 1, "second"),
    ],
)
async def test_merge_moves_base_and_sends_merged(
    gh: Client, world: World, method: MergeMethod, parents: int, subject: str
) -> None:
    number = await open_feature(gh, world)
    await push_branch(world, "feature", {"README.md": "# env 2\n"}, message="second")
    settle(world)
    result = (await gh.rest.pulls.async_merge(OWNER, REPO, number, merge_method=method)).parsed_data
    assert result.merged
    head_parents, head_subject = git_log(world, "main")[0].split("|")
    assert (len(head_parents.split()), head_subject) == (parents, subject)
    branch = (await gh.rest.repos.async_get_branch(OWNER, REPO, "main")).parsed_data
    assert branch.commit.sha == result.sha
    content = await gh.rest.repos.async_get_content(OWNER, REPO, "README.md", ref="main")
    assert content.status_code == 200
    assert (await gh.rest.pulls.async_check_if_merged(OWNER, REPO, number)).status_code == 204
    closed = [h for h in await hooks_of(world, "pull_request") if h["action"] == "closed"]
    assert [
        (h["pull_request"]["merged"], h["pull_request"]["merge_commit_sha"]) for h in closed
    ] == [(True, result.sha)]
    actions = [h["action"] for h in await hooks_of(world, "pull_request")]
    assert actions == ["opened", "synchronize", "closed"]


async def test_merge_checks_sha_and_conflicts(gh: Client, world: World) -> None:
    number = await open_feature(gh, world)
    with pytest.raises(RequestFailed) as stale:
        await gh.rest.pulls.async_merge(OWNER, REPO, number, sha="0" * 40)
    assert stale.value.response.status_code == 409
    await push_branch(world, "main", {"apps/web/values.yaml": "image:\n  tag: 3.0.0\n"})
    settle(world)
    assert (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data.mergeable is False
    with pytest.raises(RequestFailed) as conflict:
        await gh.rest.pulls.async_merge(OWNER, REPO, number)
    assert conflict.value.response.status_code == 405
    with pytest.raises(RequestFailed) as unmerged:
        await gh.rest.pulls.async_check_if_merged(OWNER, REPO, number)
    assert unmerged.value.response.status_code == 404


async def test_edit_close_reopen_events(gh: Client, world: World) -> None:
    number = await open_feature(gh, world)
    await push_branch(world, "release", {"README.md": "# release\n"})
    await gh.rest.pulls.async_update(OWNER, REPO, number, title="Renamed", base="release")
    await gh.rest.pulls.async_update(OWNER, REPO, number, state="closed")
    reopened = (await gh.rest.pulls.async_update(OWNER, REPO, number, state="open")).parsed_data
    assert (reopened.title, reopened.base.ref, reopened.state) == ("Renamed", "release", "open")
    hooks = await hooks_of(world, "pull_request")
    assert [h["action"] for h in hooks] == ["opened", "edited", "closed", "reopened"]
    assert hooks[1]["changes"] == {
        "title": {"from": "Promote feature"},
        "base": {"ref": {"from": "main"}, "sha": {"from": hooks[0]["pull_request"]["base"]["sha"]}},
    }
    assert hooks[2]["pull_request"]["merged"] is False


async def test_body_too_long(gh: Client, world: World) -> None:
    await push_branch(world, "feature", {"README.md": "changed\n"})
    with pytest.raises(RequestFailed) as failed:
        await gh.rest.pulls.async_create(
            OWNER, REPO, title="t", head="feature", base="main", body="x" * 65537
        )
    assert failed.value.response.status_code == 422
    assert "Body is too long (maximum is 65536 characters)" in failed.value.response.text


async def test_list_sorts_and_pages(gh: Client, world: World) -> None:
    numbers = [await open_feature(gh, world, f"f{i}") for i in range(3)]
    newest = parsed_list(await gh.rest.pulls.async_list(OWNER, REPO))
    assert [p.number for p in newest] == sorted(numbers, reverse=True)
    page = await gh.rest.pulls.async_list(OWNER, REPO, direction="asc", per_page=2, page=2)
    assert [p.number for p in parsed_list(page)] == numbers[2:]
    assert 'rel="prev"' in page.headers["link"]
