"""The adapter under the sandbox's fault injection: rate limits become ``RetryLater`` (a
secondary limit at least a minute, never retried inline), 5xx answers are retried only where
repeating is harmless, ref races are retried bounded, refused credentials are a clear error,
and a repeated read is a free 304."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.adapters.github import GitHubGateway
from bot.adapters.github_client import AccessDenied
from bot.services.github_ports import CommitSpec, GitHubError, GitHubPorts
from bot.services.ports import RetryLater
from github_sandbox import admin_client as calls
from github_sandbox.pushes import remove_ref
from tests.adapters.test_github_ports import BRANCH, ENV, api_calls, promote, reset
from tests.sandbox.conftest import World

pytest_plugins = ["tests.adapters.test_github_ports"]

REFS = "/repos/acme/env/git/matching-refs/heads/"


async def fault(world: World, **rule: Any) -> None:
    await world.admin.run(calls.set_faults([rule]))
    await reset(world)


@pytest.mark.parametrize(
    ("rule", "wait"),
    [
        ({"kind": "secondary_rate_limit", "retry_after": 60}, 60),
        ({"kind": "secondary_rate_limit", "retry_after": 90, "status": 429}, 90),
        ({"kind": "primary_rate_limit", "retry_after": 120}, 120),
    ],
    ids=["secondary", "secondary-429", "primary"],
)
async def test_a_long_rate_limit_waits_in_the_queue_not_inline(
    ports: GitHubPorts, world: World, rule: Mapping[str, Any], wait: int
) -> None:
    await fault(world, path=REFS, **rule)
    with pytest.raises(RetryLater, match="rate limited while reading branch heads") as raised:
        await ports.git.branch_heads(ENV)
    assert wait - 5 <= raised.value.after.total_seconds() <= wait
    assert len(await api_calls(world)) == 1


async def test_a_short_secondary_limit_is_not_retried_inline(
    ports: GitHubPorts, world: World
) -> None:
    await fault(world, kind="secondary_rate_limit", retry_after=1, times=1, path=REFS)
    with pytest.raises(RetryLater, match="secondary limit") as raised:
        await ports.git.branch_heads(ENV)
    assert raised.value.after.total_seconds() >= 60  # GitHub: at least a minute
    assert [status for _, _, status in await api_calls(world)] == [403]


async def test_a_server_error_on_a_read_is_retried(ports: GitHubPorts, world: World) -> None:
    await fault(world, kind="error", status=502, times=2, path=REFS)
    assert "main" in await ports.git.branch_heads(ENV)
    assert [status for _, _, status in await api_calls(world)] == [502, 502, 200]


async def test_a_server_error_on_a_comment_is_not_repeated(
    ports: GitHubPorts, world: World
) -> None:
    await fault(world, kind="error", status=502, times=1, method="POST", path="*/comments")
    with pytest.raises(GitHubError, match="commenting repo=acme/env number=1 failed: status=502"):
        await ports.comments.create(ENV, 1, "hello")
    assert len(await api_calls(world)) == 1


async def test_a_server_error_on_a_git_object_write_is_retried(
    ports: GitHubPorts, world: World
) -> None:
    await fault(world, kind="error", status=500, times=1, method="POST", path="*/git/trees")
    sha = await promote(ports, "1.1.0")
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha


async def test_a_ref_race_is_retried(ports: GitHubPorts, world: World) -> None:
    await promote(ports, "1.1.0")
    await fault(world, kind="ref_race", times=2, method="PATCH", path="*/git/refs/*")
    sha = await promote(ports, "1.2.0", create=False)
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha
    patches = [status for method, _, status in await api_calls(world) if method == "PATCH"]
    assert patches == [422, 422, 200]


async def test_a_ref_race_that_never_ends_gives_up(ports: GitHubPorts, world: World) -> None:
    await promote(ports, "1.1.0")
    await fault(world, kind="ref_race", method="PATCH", path="*/git/refs/*")
    with pytest.raises(GitHubError, match=f"moving branch repo={ENV} branch={BRANCH}"):
        await promote(ports, "1.2.0", create=False)


async def test_a_deleted_bot_branch_is_created_again(ports: GitHubPorts, world: World) -> None:
    await promote(ports, "1.1.0")
    heads = await ports.git.branch_heads(ENV)
    base = await ports.git.tree(ENV, heads["main"])
    repo = world.sandbox.repo_by_name("acme", "env")
    assert repo is not None
    remove_ref(world.sandbox, repo, f"refs/heads/{BRANCH}")
    spec = CommitSpec(base, {"a.txt": "a\n"}, message="m", branch=BRANCH, create=False)
    sha = await ports.git.commit_files(ENV, spec)
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha


async def test_refused_credentials_are_access_denied(world: World) -> None:
    other = await world.admin.run(calls.create_app("other", owner="acme"))
    async with GitHubGateway(
        app_id=world.app.id,
        private_key=other.pem,
        base_url=world.base_url,
        transport=world.transport,
    ) as gateway:
        ports = gateway.ports_for(world.installation_id)
        with pytest.raises(AccessDenied, match="reading branch heads repo=acme/env failed"):
            await ports.git.branch_heads(ENV)


async def test_a_repeated_read_is_a_free_304(ports: GitHubPorts, world: World) -> None:
    await reset(world)
    first = await ports.git.branch_heads(ENV)
    assert await ports.git.branch_heads(ENV) == first
    assert [status for _, _, status in await api_calls(world)] == [200, 304]
