"""The git adapter keeps what git records about each file: an executable stays ``100755`` and a
symbolic link (``120000``, "a blob that specifies the path of a symlink", GitHub's OpenAPI
``git/create-tree``) is never written through; refreshing a promotion branch never needs the
``workflows`` permission."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.services.github_ports import SYMLINK, CommitSpec, GitHubError, GitHubPorts
from github_sandbox import admin_client as calls
from tests.adapters.test_github_ports import BRANCH, ENV, VALUES, api_calls, promote, reset
from tests.sandbox.conftest import OWNER, REPO, World

pytest_plugins = ["tests.adapters.test_github_ports"]

SCRIPT = "apps/web/deploy.sh"
LINK = "apps/web/current.yaml"
EXECUTABLE = "100755"


async def commit_main(world: World, entries: list[dict[str, Any]], message: str) -> str:
    """A commit on main's head with the tree ``entries`` (modes as given), main moved to it."""
    async with world.installation_github() as gh:
        ref = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        head = (await gh.rest.git.async_get_commit(OWNER, REPO, ref.object_.sha)).parsed_data
        tree = await gh.rest.git.async_create_tree(
            OWNER, REPO, base_tree=head.tree.sha, tree=entries
        )
        commit = await gh.rest.git.async_create_commit(
            OWNER, REPO, message=message, tree=tree.parsed_data.sha, parents=[head.sha]
        )
        sha = str(commit.parsed_data.sha)
        await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
    return sha


def blob(path: str, mode: str, content: str) -> dict[str, Any]:
    return {"path": path, "mode": mode, "type": "blob", "content": content}


def modes_at(world: World, sha: str) -> dict[str, str]:
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    return {e.path: e.mode for e in world.sandbox.git(repo).ls_tree(sha, recursive=True)}


async def test_tree_reports_modes_and_commit_files_keeps_them(
    ports: GitHubPorts, world: World
) -> None:
    head = await commit_main(
        world,
        [
            blob(VALUES, EXECUTABLE, "image:\n  tag: 1.0.0\n"),
            blob(SCRIPT, EXECUTABLE, "#!/bin/sh\n"),
            blob(LINK, SYMLINK, "values.yaml"),
        ],
        "modes",
    )
    base = await ports.git.tree(ENV, head)
    assert (base.mode(VALUES), base.mode(SCRIPT), base.mode(LINK)) == (
        EXECUTABLE,
        EXECUTABLE,
        SYMLINK,
    )
    assert base.mode("README.md") == "100644"
    spec = CommitSpec(base, {VALUES: "image:\n  tag: 1.1.0\n"}, "m", BRANCH, create=True)
    sha = await ports.git.commit_files(ENV, spec)
    modes = modes_at(world, sha)
    assert (modes[VALUES], modes[SCRIPT], modes[LINK]) == (EXECUTABLE, EXECUTABLE, SYMLINK)


async def test_commit_files_never_writes_through_a_link(ports: GitHubPorts, world: World) -> None:
    head = await commit_main(world, [blob(LINK, SYMLINK, "values.yaml")], "link")
    base = await ports.git.tree(ENV, head)
    spec = CommitSpec(base, {LINK: "image:\n  tag: 1.1.0\n"}, "m", BRANCH, create=True)
    with pytest.raises(GitHubError, match=f"symbolic link paths={LINK}"):
        await ports.git.commit_files(ENV, spec)
    assert BRANCH not in await ports.git.branch_heads(ENV)


WORKFLOW = ".github/workflows/ci.yml"


async def refresh(ports: GitHubPorts, tag: str) -> str:
    """Refresh ``BRANCH`` (it exists) on main's head, as an update of its open PR does."""
    base = await ports.git.tree(ENV, (await ports.git.branch_heads(ENV))["main"])
    spec = CommitSpec(base, {VALUES: f"image:\n  tag: {tag}\n"}, "m", BRANCH, create=False)
    return await ports.git.commit_files(ENV, spec)


async def test_refreshing_a_branch_never_needs_the_workflows_permission(
    ports: GitHubPorts, world: World
) -> None:
    """The sandbox refuses an App's ref move that brings in a workflow change (403, as GitHub
    does for an App without ``workflows``; see tests/sandbox/test_workflows.py): the bot
    rebuilds the branch on the base it already had, so the move changes only its own files."""
    await promote(ports, "1.1.0")
    first_base = (await ports.git.branch_heads(ENV))["main"]
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files={WORKFLOW: "on: push\n"}))
    await reset(world)
    sha = await refresh(ports, "1.2.0")
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    git = world.sandbox.git(repo)
    commit = git.commit(sha)
    assert commit is not None and commit.parents == (first_base,)
    values = git.read_blob(f"{sha}:{VALUES}")
    assert values is not None and values[1] == b"image:\n  tag: 1.2.0\n"
    assert git.read_blob(f"{sha}:{WORKFLOW}") is None  # the PR's merge brings it in
    assert (await ports.git.branch_heads(ENV))[BRANCH] == sha
    statuses = [(m, s) for m, _, s in await api_calls(world) if m == "PATCH"]
    assert statuses == [("PATCH", 403), ("PATCH", 200)]


async def test_a_base_that_also_changed_the_promoted_file_is_a_clear_error(
    ports: GitHubPorts, world: World
) -> None:
    await promote(ports, "1.1.0")
    files = {WORKFLOW: "on: push\n", VALUES: "image:\n  tag: 1.0.5\n"}
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files=files))
    with pytest.raises(GitHubError, match=f"workflow change from the base.*paths={VALUES}"):
        await refresh(ports, "1.2.0")


def test_the_app_does_not_ask_for_the_workflows_permission() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "app-manifest.yml").read_text())
    assert "workflows" not in manifest["default_permissions"]
