"""The git adapter keeps what git records about each file: an executable stays ``100755`` and a
symbolic link (``120000``, "a blob that specifies the path of a symlink", GitHub's OpenAPI
``git/create-tree``) is never written through; refreshing a promotion branch never needs the
``workflows`` permission."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.github_ports import SYMLINK, CommitSpec, GitHubError, GitHubPorts
from tests.adapters.test_github_ports import BRANCH, ENV, VALUES
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
        sha = commit.parsed_data.sha
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
