"""Contract: repository, contents and git data endpoints, driven through githubkit."""

from __future__ import annotations

import base64

import pytest

from tests.sandbox.conftest import OWNER, REPO, SEED_FILES, World
from tests.sandbox.openapi_check import run_contract

VALUES = "apps/web/values.yaml"


async def repository_and_contents(world: World) -> None:
    async with world.installation_github() as gh:
        repo = (await gh.rest.repos.async_get(OWNER, REPO)).parsed_data
        assert repo.full_name == f"{OWNER}/{REPO}"
        got = (await gh.rest.repos.async_get_content(OWNER, REPO, VALUES)).parsed_data
        assert not isinstance(got, list) and got.type == "file"
        assert base64.b64decode(getattr(got, "content", "")).decode() == SEED_FILES[VALUES]
        listing = (await gh.rest.repos.async_get_content(OWNER, REPO, "apps/web")).parsed_data
        assert isinstance(listing, list) and [item.path for item in listing] == [VALUES]
        written = await gh.rest.repos.async_create_or_update_file_contents(
            OWNER,
            REPO,
            VALUES,
            message="contract: bump",
            content=base64.b64encode(b"image:\n  tag: 1.1.0\n").decode(),
            sha=getattr(got, "sha", ""),
        )
        assert written.status_code == 200 and written.parsed_data.commit.sha
        created = await gh.rest.repos.async_create_or_update_file_contents(
            OWNER, REPO, "new.txt", message="contract: add", content="bmV3Cg=="
        )
        assert created.status_code == 201 and created.parsed_data.content is not None


async def one_commit_many_files(world: World) -> None:
    """The Git Data recipe: ref -> commit -> blob + tree -> commit -> new ref -> move -> delete."""
    async with world.installation_github() as gh:
        git = gh.rest.git
        head = (await git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        base = (await git.async_get_commit(OWNER, REPO, head.object_.sha)).parsed_data
        blob = (
            await git.async_create_blob(OWNER, REPO, content="aGk=", encoding="base64")
        ).parsed_data
        assert (await git.async_get_blob(OWNER, REPO, blob.sha)).parsed_data.content
        tree = (
            await git.async_create_tree(
                OWNER,
                REPO,
                base_tree=base.tree.sha,
                tree=[
                    {"path": "hi.txt", "mode": "100644", "type": "blob", "sha": blob.sha},
                    {"path": VALUES, "mode": "100644", "type": "blob", "content": "x: 1\n"},
                ],
            )
        ).parsed_data
        listed = (await git.async_get_tree(OWNER, REPO, tree.sha, recursive="1")).parsed_data
        assert {"hi.txt", VALUES} <= {entry.path for entry in listed.tree}
        commit = (
            await git.async_create_commit(
                OWNER, REPO, message="contract: many files", tree=tree.sha, parents=[base.sha]
            )
        ).parsed_data
        ref = "refs/heads/contract/git-data"
        created = await git.async_create_ref(OWNER, REPO, ref=ref, sha=base.sha)
        assert created.parsed_data.ref == ref
        moved = await git.async_update_ref(
            OWNER, REPO, "heads/contract/git-data", sha=commit.sha, force=False
        )
        assert moved.parsed_data.object_.sha == commit.sha
        matching = await git.async_list_matching_refs(OWNER, REPO, "heads/contract/")
        assert [r.ref for r in matching.parsed_data] == [ref]
        deleted = await git.async_delete_ref(OWNER, REPO, "heads/contract/git-data")
        assert deleted.status_code == 204


SCENARIOS = (repository_and_contents, one_commit_many_files)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_contract(world: World, scenario) -> None:
    await run_contract(world, [scenario])
