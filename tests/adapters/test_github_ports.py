"""The githubkit adapter against the in-process sandbox: every port method, once each.

Also the fixtures (``world``, ``gateway``, ``ports``) the other ``test_github_*`` modules use
through ``pytest_plugins``: the sandbox's own conftest cannot be a plugin (it is a conftest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.adapters import metrics
from bot.adapters.github import GitHubGateway
from bot.services.conversation_ports import CheckAction, CheckRunSpec
from bot.services.github_ports import CommitSpec, GitHubPorts, NotFound, Repository
from bot.services.ports import JobRejected
from github_sandbox import admin_client as calls
from github_sandbox.admin_client import AsyncAdminClient
from github_sandbox.app import create_app, sandbox_of_app
from github_sandbox.collab_admin import ActAs
from tests.sandbox.conftest import BASE_URL, OWNER, REPO, SEED_FILES, World, seed_world

ENV = f"{OWNER}/{REPO}"
VALUES = "apps/web/values.yaml"
BRANCH = "promotion/web/dev"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """An in-process sandbox seeded like the sandbox tests' ``world``."""
    app = create_app(tmp_path / "sandbox")
    sandbox = sandbox_of_app(app)
    sandbox.urls.api = BASE_URL
    transport = httpx.ASGITransport(app=app)
    sandbox.webhooks.transport = transport
    admin = AsyncAdminClient(BASE_URL, transport=transport)
    hooks = f"{BASE_URL}/_sandbox/sink/hooks"
    yield await seed_world(
        admin, sandbox, transport=transport, base_url=BASE_URL, webhook_url=hooks
    )
    await admin.aclose()
    sandbox.close()


@pytest.fixture
async def gateway(world: World) -> AsyncIterator[GitHubGateway]:
    async with GitHubGateway(
        app_id=world.app.id,
        private_key=world.app.pem,
        base_url=world.base_url,
        transport=world.transport,
    ) as gw:
        yield gw


@pytest.fixture
def ports(gateway: GitHubGateway, world: World) -> GitHubPorts:
    return gateway.ports_for(world.installation_id)


async def api_calls(world: World) -> list[tuple[str, str, int]]:
    """The installation's REST calls since the last reset: (method, route, status)."""
    log = await world.admin.run(calls.requests_log(installation_id=world.installation_id))
    return [(r["method"], r["route"], r["status"]) for r in log]


async def billed_calls(world: World) -> list[tuple[str, str, int]]:
    """``api_calls`` less the 304s of conditional requests, which cost no rate limit."""
    return [call for call in await api_calls(world) if call[2] != 304]


def grant(installation_id: int, repo: str) -> calls.Call[Any]:
    """Add ``repo`` to the installation's selected repositories."""
    path = f"/_sandbox/installations/{installation_id}/repositories"
    return calls.Call("POST", path, lambda data: data, {"add": [repo]})


async def reset(world: World) -> None:
    await world.admin.run(calls.reset_requests())


async def promote(ports: GitHubPorts, tag: str, *, create: bool = True) -> str:
    """Point ``BRANCH`` at a commit on main's head that sets the web tag."""
    head = (await ports.git.branch_heads(ENV))["main"]
    base = await ports.git.tree(ENV, head)
    files = {VALUES: f"image:\n  tag: {tag}\n"}
    spec = CommitSpec(base, files, message=f"Promote web {tag}", branch=BRANCH, create=create)
    return await ports.git.commit_files(ENV, spec)


async def test_identity_and_links(ports: GitHubPorts, world: World) -> None:
    assert ports.bot_login == "promoter[bot]"
    assert ports.web_url == world.base_url


async def test_repositories_are_cached_until_forgotten(ports: GitHubPorts, world: World) -> None:
    await reset(world)
    expected = (Repository(ENV, "main", False),)
    assert await ports.installation.repositories() == expected
    assert await ports.installation.repositories() == expected
    ports.installation.forget_repositories()
    assert await ports.installation.repositories() == expected
    routes = [route for _, route, _ in await api_calls(world)]
    assert routes == ["/installation/repositories"] * 2


async def test_a_job_without_installation_is_rejected(gateway: GitHubGateway) -> None:
    with pytest.raises(JobRejected, match="without an installation"):
        gateway.ports_for(None)


async def test_installations_of_the_app(gateway: GitHubGateway, world: World) -> None:
    await world.admin.run(calls.create_repo("globex", "env"))
    other = await world.admin.run(calls.install_app(world.app.id, "globex"))
    assert await gateway.installation_ids() == (world.installation_id, other.id)


async def test_tree_and_blobs_are_read_once(ports: GitHubPorts, world: World) -> None:
    heads = await ports.git.branch_heads(ENV)
    assert set(heads) == {"main"}
    await reset(world)
    tree = await ports.git.tree(ENV, heads["main"])
    texts = await ports.git.read_blobs(ENV, list(tree.blobs.values()))
    assert {path: texts[sha] for path, sha in tree.blobs.items()} == SEED_FILES
    assert await ports.git.tree(ENV, heads["main"]) == tree
    assert await ports.git.read_blobs(ENV, [tree.blobs[VALUES]]) == {
        tree.blobs[VALUES]: SEED_FILES[VALUES]
    }
    assert len(await api_calls(world)) == 1 + len(SEED_FILES)


@pytest.mark.parametrize(
    ("repo", "setup"),
    [("acme/missing", None), ("acme/empty", calls.create_repo(OWNER, "empty"))],
    ids=["unknown", "empty"],
)
async def test_branch_heads_of_an_unknown_or_empty_repository(
    ports: GitHubPorts, world: World, repo: str, setup: calls.Call[Any] | None
) -> None:
    if setup is not None:
        await world.admin.run(setup)
    with pytest.raises(NotFound, match=f"reading branch heads repo={repo}"):
        await ports.git.branch_heads(repo)


async def test_commit_files_makes_one_commit_changing_only_the_files(
    ports: GitHubPorts, world: World
) -> None:
    main = (await ports.git.branch_heads(ENV))["main"]
    sha = await promote(ports, "1.1.0")
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    git = world.sandbox.git(repo)
    commit = git.commit(sha)
    assert commit is not None and commit.parents == (main,)
    assert git.changed_paths([sha]) == {sha: ([], [], [VALUES])}
    blob = git.read_blob(f"{sha}:{VALUES}")
    assert blob is not None and blob[1] == b"image:\n  tag: 1.1.0\n"
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha


async def test_commit_files_replaces_the_bot_branch_by_force(ports: GitHubPorts) -> None:
    first = await promote(ports, "1.1.0")
    second = await promote(ports, "1.2.0", create=False)
    # Recomputed from main, not stacked on the first commit.
    tree = await ports.git.tree(ENV, second)
    assert (await ports.git.read_blobs(ENV, [tree.blobs[VALUES]])) == {
        tree.blobs[VALUES]: "image:\n  tag: 1.2.0\n"
    }
    assert second != first
    assert (await ports.git.branch_heads(ENV))[BRANCH] == second


async def test_creating_a_branch_that_appeared_meanwhile_moves_it(
    ports: GitHubPorts, world: World
) -> None:
    await promote(ports, "1.1.0")
    await reset(world)
    sha = await promote(ports, "1.2.0", create=True)
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha
    writes = [(m, s) for m, _, s in await api_calls(world) if m != "GET"]
    assert writes == [("POST", 201), ("POST", 201), ("POST", 422), ("PATCH", 200)]


@pytest.mark.parametrize(
    ("path", "changed_by"),
    [
        (VALUES, "seed"),
        ("apps/web", "seed"),
        ("README.md", "later"),
        (".", "later"),
        ("apps/missing.yaml", None),
    ],
    ids=["file", "directory", "other-file", "whole-branch", "unknown-path"],
)
async def test_last_commit_at_is_the_newest_commit_touching_the_path(
    ports: GitHubPorts, world: World, path: str, changed_by: str | None
) -> None:
    seed = (await ports.git.branch_heads(ENV))["main"]
    # Less than the installation token's hour, which the sandbox clock also ages.
    await world.admin.run(calls.advance_clock(30 * 60))
    pushed = await world.admin.run(
        calls.push(OWNER, REPO, pusher=OWNER, branch="main", files={"README.md": "# later\n"})
    )
    dates = {"seed": commit_date(world, seed), "later": commit_date(world, pushed.updates[0].after)}
    assert dates["later"] - dates["seed"] >= timedelta(minutes=30)
    await reset(world)
    found = await ports.git.last_commit_at(ENV, "main", path)
    assert found == (None if changed_by is None else dates[changed_by])
    assert [(m, r) for m, r, _ in await api_calls(world)] == [
        ("GET", "/repos/{owner}/{repo}/commits")
    ]


def commit_date(world: World, sha: str) -> datetime:
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    commit = world.sandbox.git(repo).commit(sha)
    assert commit is not None
    return datetime.fromtimestamp(commit.committer.epoch, UTC)


async def test_last_commit_at_of_an_empty_repository_is_none(
    ports: GitHubPorts, world: World
) -> None:
    await world.admin.run(calls.create_repo(OWNER, "empty"))
    await world.admin.run(grant(world.installation_id, "empty"))
    assert await ports.git.last_commit_at(f"{OWNER}/empty", "main", "envs") is None


def metric(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def pr_counts() -> list[float]:
    actions = ("opened", "updated", "merged", "closed")
    return [metric("promotion_bot_pull_requests_total", action=a) for a in actions]


async def test_pull_requests_open_find_update_and_merge(ports: GitHubPorts, world: World) -> None:
    counted = pr_counts()
    head = await promote(ports, "1.1.0")
    opened = await ports.pulls.open(ENV, head=BRANCH, base="main", title="Promote", body="b")
    assert (opened.state, opened.by_bot, opened.head_sha, opened.base_ref) == (
        "open",
        True,
        head,
        "main",
    )
    await ports.pulls.update(ENV, opened.number, title="T2", body="B2")
    await ports.pulls.add_labels(ENV, opened.number, ["env:dev"])
    got = await ports.pulls.get(ENV, opened.number)
    assert (got.title, got.body, set(got.labels)) == ("T2", "B2", {"env:dev"})
    assert [p.number for p in await ports.pulls.history(ENV, BRANCH)] == [opened.number]
    assert [(f.path, f.status) for f in await ports.pulls.files(ENV, opened.number)] == [
        (VALUES, "modified")
    ]
    (pull,) = await ports.pulls.history(ENV, BRANCH)
    assert pull.mergeable is None  # a listing has no mergeability
    assert (await ports.pulls.get(ENV, opened.number)).mergeable is None  # still computing
    stale = await ports.pulls.merge(ENV, opened.number, head_sha="0" * 40)
    assert (stale.merged, stale.refusal) == (False, "head_moved")
    early = await ports.pulls.merge(ENV, opened.number, head_sha=head)
    assert (early.merged, early.refusal, early.message) == (
        False,
        "base_modified",
        "Base branch was modified. Review and try the merge again.",
    )
    world.sandbox.advance_clock(world.sandbox.mergeability_seconds)
    assert (await ports.pulls.get(ENV, opened.number)).mergeable is True
    await world.admin.run(calls.merge_settings(*ENV.split("/"), squash=False))
    assert await ports.pulls.merge_methods(ENV) == {"merge", "rebase"}
    refused = await ports.pulls.merge(ENV, opened.number, head_sha=head, method="squash")
    assert (refused.refusal, refused.message) == (
        "method_not_allowed",
        "Squash merges are not allowed on this repository.",
    )
    assert (await ports.pulls.merge(ENV, opened.number, head_sha=head, method="merge")).merged
    merged = await ports.pulls.get(ENV, opened.number)
    assert (merged.state, merged.merged, merged.merged_at is not None) == ("closed", True, True)
    assert [a - b for a, b in zip(pr_counts(), counted, strict=True)] == [1, 1, 1, 0]


async def test_history_is_newest_first_and_keeps_closed_pulls(
    ports: GitHubPorts, world: World
) -> None:
    await promote(ports, "1.1.0")
    first = await ports.pulls.open(ENV, head=BRANCH, base="main", title="one", body="")
    await world.admin.run(ActAs(OWNER).close(OWNER, REPO, first.number))
    await promote(ports, "1.2.0", create=False)
    second = await ports.pulls.open(ENV, head=BRANCH, base="main", title="two", body="")
    history = await ports.pulls.history(ENV, BRANCH)
    assert [(p.number, p.state) for p in history] == [
        (second.number, "open"),
        (first.number, "closed"),
    ]
    assert await ports.pulls.history(ENV, "promotion/other/dev") == ()


async def test_unknown_pull_is_not_found_and_counted(ports: GitHubPorts) -> None:
    labels = {"method": "GET", "route": "/repos/{owner}/{repo}/pulls/{id}", "status": "404"}
    before = metric("promotion_bot_github_requests_total", **labels)
    with pytest.raises(NotFound, match="reading pull request repo=acme/env number=99"):
        await ports.pulls.get(ENV, 99)
    assert metric("promotion_bot_github_requests_total", **labels) - before == 1


async def test_comments_tell_the_bot_from_people(ports: GitHubPorts, world: World) -> None:
    await promote(ports, "1.1.0")
    pull = await ports.pulls.open(ENV, head=BRANCH, base="main", title="t", body="")
    await world.admin.run(ActAs(OWNER).comment(OWNER, REPO, pull.number, "looks good"))
    comment_id = await ports.comments.create(ENV, pull.number, "<!-- bot -->\nreview")
    await ports.comments.edit(ENV, comment_id, "<!-- bot -->\nreview v2")
    listed = await ports.comments.list(ENV, pull.number)
    assert [(c.body, c.by_bot) for c in listed] == [
        ("looks good", False),
        ("<!-- bot -->\nreview v2", True),
    ]
    assert listed[1].id == comment_id


async def test_issues_by_the_bot_open_edit_close(ports: GitHubPorts, world: World) -> None:
    await world.admin.run(ActAs(OWNER).open_issue(OWNER, REPO, title="a person's"))
    number = await ports.issues.open(ENV, title="Invalid config", body="e1", labels=[])
    await promote(ports, "1.1.0")
    await ports.pulls.open(ENV, head=BRANCH, base="main", title="a pull", body="")
    await ports.issues.edit(ENV, number, title="Invalid config", body="e2")
    listed = await ports.issues.list_open_by_bot(ENV)
    assert [(i.number, i.body, i.by_bot) for i in listed] == [(number, "e2", True)]
    await ports.issues.close(ENV, number)
    assert await ports.issues.list_open_by_bot(ENV) == ()


async def test_check_run_with_buttons(ports: GitHubPorts, world: World) -> None:
    head = await promote(ports, "1.1.0")
    spec = CheckRunSpec(
        name="promotion-policy",
        head_sha=head,
        status="completed",
        title="Gates pass",
        summary="soak done",
        conclusion="success",
        text="details",
        actions=(CheckAction("Promote", "Promote to staging", "promote"),),
    )
    run_id = await ports.checks.create(ENV, spec)
    github = world.installation_github()  # held: githubkit needs a live client reference
    got = (await github.rest.checks.async_get(OWNER, REPO, run_id)).json()
    assert (got["name"], got["status"], got["conclusion"], got["head_sha"]) == (
        "promotion-policy",
        "completed",
        "success",
        head,
    )
    assert got["output"]["text"] == "details"


async def test_sources_list_tags_and_package_versions(ports: GitHubPorts, world: World) -> None:
    await world.admin.run(calls.create_repo(OWNER, "web", files={"README.md": "web\n"}))
    await world.admin.run(grant(world.installation_id, "web"))
    await world.admin.run(calls.push(OWNER, "web", pusher=OWNER, tags={"v1.0.0": "main"}))
    await world.admin.run(calls.push(OWNER, "web", pusher=OWNER, tags={"v1.1.0": "main"}))
    assert set(await ports.sources.list_tags(f"{OWNER}/web")) == {"v1.0.0", "v1.1.0"}
    for tag in ("1.0.0", "1.1.0"):
        await world.admin.run(calls.publish_package(OWNER, "web", repository="web", tag=tag))
    versions = await ports.sources.list_container_versions(f"ghcr.io/{OWNER}/web")
    assert versions == ("1.1.0", "1.0.0")


@pytest.mark.parametrize(
    "image", ["ghcr.io/acme/nothing", "docker.io/acme/web", "ghcr.io/acme"], ids=str
)
async def test_unknown_packages_are_not_found(ports: GitHubPorts, image: str) -> None:
    with pytest.raises(NotFound, match="listing package versions failed"):
        await ports.sources.list_container_versions(image)


async def test_unknown_repository_tags_are_not_found(ports: GitHubPorts) -> None:
    with pytest.raises(NotFound, match="listing tags repo=acme/none"):
        await ports.sources.list_tags("acme/none")
