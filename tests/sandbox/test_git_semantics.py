"""Git Data through githubkit lands in the bare repo; ref updates keep fast-forward semantics."""

from __future__ import annotations

import asyncio
import base64
import subprocess

import pytest
from githubkit.exception import RequestFailed

from github_sandbox import admin_client as calls
from tests.sandbox.conftest import OWNER, REPO, World


def git_log(world: World, ref: str) -> list[str]:
    repo = world.sandbox.repo_by_name(OWNER, REPO)
    assert repo is not None
    path = world.sandbox.git(repo).path
    out = subprocess.run(
        ["git", f"--git-dir={path}", "log", "--format=%H %s", ref],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


async def commit_on_main(gh, message: str, files: dict[str, str | None]) -> tuple[str, str]:
    """(old head, new commit) after building a tree and commit on top of main."""
    ref = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
    head = (await gh.rest.git.async_get_commit(OWNER, REPO, ref.object_.sha)).parsed_data
    entries = [
        {"path": p, "mode": "100644", "type": "blob", "content": c}
        if c is not None
        else {"path": p, "mode": "100644", "type": "blob", "sha": None}
        for p, c in files.items()
    ]
    tree = await gh.rest.git.async_create_tree(OWNER, REPO, base_tree=head.tree.sha, tree=entries)
    commit = await gh.rest.git.async_create_commit(
        OWNER, REPO, message=message, tree=tree.parsed_data.sha, parents=[head.sha]
    )
    return head.sha, commit.parsed_data.sha


async def test_api_commit_is_visible_to_git_log(world: World) -> None:
    async with world.installation_github() as gh:
        _, sha = await commit_on_main(gh, "bump web", {"apps/web/values.yaml": "tag: 1.1.0\n"})
        await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=sha)
        content = await gh.rest.repos.async_get_content(OWNER, REPO, "apps/web/values.yaml")
    assert git_log(world, "main")[0] == f"{sha} bump web"
    assert base64.b64decode(content.parsed_data.content) == b"tag: 1.1.0\n"


async def test_tree_deletion_and_nested_paths(world: World) -> None:
    async with world.installation_github() as gh:
        _, sha = await commit_on_main(
            gh, "reshape", {"README.md": None, "a/b/c.txt": "deep\n", "apps/web/values.yaml": None}
        )
        tree = await gh.rest.git.async_get_tree(OWNER, REPO, sha, recursive="1")
    paths = sorted(e.path for e in tree.parsed_data.tree)
    assert paths == ["a", "a/b", "a/b/c.txt"]


async def test_deleting_a_missing_path_is_refused(world: World) -> None:
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as err:
            await commit_on_main(gh, "bad", {"nope.txt": None})
    assert err.value.response.status_code == 422


async def test_non_fast_forward_is_refused_and_force_wins(world: World) -> None:
    async with world.installation_github() as gh:
        base, first = await commit_on_main(gh, "first", {"x.txt": "1\n"})
        await gh.rest.git.async_update_ref(OWNER, REPO, "heads/main", sha=first)
        tree = (await gh.rest.git.async_get_commit(OWNER, REPO, base)).parsed_data.tree.sha
        sibling = await gh.rest.git.async_create_commit(
            OWNER, REPO, message="sibling", tree=tree, parents=[base]
        )
        with pytest.raises(RequestFailed) as err:
            await gh.rest.git.async_update_ref(
                OWNER, REPO, "heads/main", sha=sibling.parsed_data.sha
            )
        assert err.value.response.status_code == 422
        assert err.value.response.json()["message"] == "Update is not a fast forward"
        forced = await gh.rest.git.async_update_ref(
            OWNER, REPO, "heads/main", sha=sibling.parsed_data.sha, force=True
        )
    assert forced.parsed_data.object_.sha == sibling.parsed_data.sha
    assert git_log(world, "main")[0].endswith(" sibling")


async def test_branch_create_compare_and_delete(world: World) -> None:
    async with world.installation_github() as gh:
        _, sha = await commit_on_main(gh, "feature", {"apps/web/values.yaml": "tag: 2\n"})
        await gh.rest.git.async_create_ref(OWNER, REPO, ref="refs/heads/promote/web", sha=sha)
        compare = await gh.rest.repos.async_compare_commits(OWNER, REPO, "main...promote/web")
        matching = await gh.rest.git.async_list_matching_refs(OWNER, REPO, "heads/promote")
        branch = await gh.rest.repos.async_get_branch(OWNER, REPO, "promote/web")
        await gh.rest.git.async_delete_ref(OWNER, REPO, "heads/promote/web")
        with pytest.raises(RequestFailed) as err:
            await gh.rest.git.async_get_ref(OWNER, REPO, "heads/promote/web")
    data = compare.parsed_data
    assert (data.status, data.ahead_by, data.behind_by) == ("ahead", 1, 0)
    assert data.files is not None and data.files[0].filename == "apps/web/values.yaml"
    assert "+tag: 2" in (data.files[0].patch or "")
    assert [r.ref for r in matching.parsed_data] == ["refs/heads/promote/web"]
    assert branch.parsed_data.commit.sha == sha
    assert err.value.response.status_code == 404


async def test_contents_put_commits_and_lists(world: World) -> None:
    async with world.installation_github() as gh:
        created = await gh.rest.repos.async_create_or_update_file_contents(
            OWNER,
            REPO,
            "docs/new.md",
            message="add doc",
            content=base64.b64encode(b"hello\n").decode(),
        )
        sha = created.parsed_data.content.sha
        updated = await gh.rest.repos.async_create_or_update_file_contents(
            OWNER,
            REPO,
            "docs/new.md",
            message="edit doc",
            sha=sha,
            content=base64.b64encode(b"hello again\n").decode(),
        )
        commits = await gh.rest.repos.async_list_commits(OWNER, REPO, path="docs/new.md")
        one = await gh.rest.repos.async_get_commit(OWNER, REPO, updated.parsed_data.commit.sha)
        listing = await gh.rest.repos.async_get_content(OWNER, REPO, "docs")
    assert created.status_code == 201 and updated.status_code == 200
    assert [c.commit.message for c in commits.parsed_data] == ["edit doc", "add doc"]
    assert one.parsed_data.files is not None and one.parsed_data.files[0].status == "modified"
    assert isinstance(listing.parsed_data, list) and listing.parsed_data[0].name == "new.md"


async def test_push_and_tags_from_admin_show_in_branches_and_tags(world: World) -> None:
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, tags={"v1.0.0": "main"}))
    async with world.installation_github() as gh:
        branches = await gh.rest.repos.async_list_branches(OWNER, REPO)
        tags = await gh.rest.repos.async_list_tags(OWNER, REPO)
        repo = await gh.rest.repos.async_get(OWNER, REPO)
        blob = await gh.rest.git.async_create_blob(OWNER, REPO, content="x", encoding="utf-8")
        got = await gh.rest.git.async_get_blob(OWNER, REPO, blob.parsed_data.sha)
    assert [b.name for b in branches.parsed_data] == ["main"]
    assert [t.name for t in tags.parsed_data] == ["v1.0.0"]
    assert repo.parsed_data.default_branch == "main"
    assert base64.b64decode(got.parsed_data.content) == b"x"


async def test_git_subprocesses_per_request_stay_few(world: World, monkeypatch) -> None:
    calls_made: list[str] = []
    real_run = subprocess.run

    def counting_run(args, **kwargs):
        calls_made.append(next(a for a in args[1:] if not a.startswith("-") and "=" not in a))
        return real_run(args, **kwargs)

    async with world.installation_github() as gh:
        head = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        monkeypatch.setattr(subprocess, "run", counting_run)
        await gh.rest.git.async_get_tree(OWNER, REPO, head.object_.sha, recursive="1")
        tree_calls = list(calls_made)
        calls_made.clear()
        await gh.rest.git.async_create_tree(
            OWNER,
            REPO,
            base_tree=head.object_.sha,
            tree=[
                {"path": f"deep/er/f{i}.txt", "mode": "100644", "type": "blob", "content": "x"}
                for i in range(20)
            ],
        )
    assert len(tree_calls) <= 3, tree_calls
    # One listing, one hash-object for all 20 blobs, one mktree per touched directory.
    assert calls_made.count("hash-object") == 1 and calls_made.count("mktree") == 3, calls_made


async def test_repo_from_directory_with_branches(world: World, tmp_path) -> None:
    tmp_path = tmp_path / "src"
    (tmp_path / "apps" / "api").mkdir(parents=True)
    (tmp_path / "apps" / "api" / "values.yaml").write_text("tag: 1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ignored\n")
    await world.admin.run(
        calls.create_repo(
            OWNER,
            "fromdir",
            source_dir=str(tmp_path),
            files={"README.md": "hi\n"},
            branches={"staging": {"apps/api/values.yaml": "tag: 2\n", "README.md": None}},
        )
    )
    await world.admin.run(
        calls.change_installation_repositories(world.installation_id, add=["fromdir"])
    )
    async with world.installation_github() as gh:
        main = await gh.rest.git.async_get_tree(OWNER, "fromdir", "main", recursive="1")
        staging = await gh.rest.repos.async_compare_commits(OWNER, "fromdir", "main...staging")
    blobs = sorted(e.path for e in main.parsed_data.tree if e.type == "blob")
    assert blobs == ["README.md", "apps/api/values.yaml"]
    changed = sorted((f.filename, f.status) for f in staging.parsed_data.files or [])
    assert changed == [("README.md", "removed"), ("apps/api/values.yaml", "modified")]


async def test_concurrent_pushes_all_land(world: World) -> None:
    pushes = [
        world.admin.run(
            calls.push(OWNER, REPO, pusher=OWNER, files={f"f{i}": "x"}, message=f"m{i}")
        )
        for i in range(8)
    ]
    await asyncio.gather(*pushes)
    assert len(git_log(world, "main")) == 9


# (path, Accept, whether the answer is the file's bytes); one world serves all rows.
MEDIA_TYPES = [
    ("apps/web/values.yaml", "application/vnd.github.raw+json", True),
    ("apps/web/values.yaml", "application/vnd.github.raw", True),
    ("apps/web/values.yaml", "application/vnd.github.v3.raw", True),
    ("apps/web/values.yaml", "application/vnd.github+json", False),
    ("apps/web", "application/vnd.github.raw+json", False),
]


async def test_contents_raw_media_type(world: World) -> None:
    async with world.installation_github() as gh:
        for path, accept, raw in MEDIA_TYPES:
            answer = await gh.rest.repos.async_get_content(
                OWNER, REPO, path, headers={"Accept": accept}
            )
            kind = answer.headers["content-type"]
            if raw:
                assert kind == "application/vnd.github.raw", accept
                assert answer.content == b"image:\n  tag: 1.0.0\n", accept
            else:
                assert kind.startswith("application/json"), (path, accept)


async def test_trees_keep_executable_and_symlink_modes(world: World) -> None:
    """GitHub's OpenAPI ``git/create-tree``: mode ``100755`` is an executable blob and
    ``120000`` "a blob that specifies the path of a symlink"; ``git/get-tree`` lists each
    entry's ``mode``, and a tree built on a ``base_tree`` keeps the modes of what it leaves."""
    async with world.installation_github() as gh:
        ref = (await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")).parsed_data
        head = (await gh.rest.git.async_get_commit(OWNER, REPO, ref.object_.sha)).parsed_data
        entries = [
            {"path": "bin/run.sh", "mode": "100755", "type": "blob", "content": "#!/bin/sh\n"},
            {"path": "apps/link.yaml", "mode": "120000", "type": "blob", "content": "web"},
        ]
        first = await gh.rest.git.async_create_tree(
            OWNER, REPO, base_tree=head.tree.sha, tree=entries
        )
        second = await gh.rest.git.async_create_tree(
            OWNER,
            REPO,
            base_tree=first.parsed_data.sha,
            tree=[{"path": "README.md", "mode": "100644", "type": "blob", "content": "new\n"}],
        )
        listed = await gh.rest.git.async_get_tree(
            OWNER, REPO, second.parsed_data.sha, recursive="1"
        )
    modes = {e.path: e.mode for e in listed.parsed_data.tree}
    assert (modes["bin/run.sh"], modes["apps/link.yaml"]) == ("100755", "120000")
    assert modes["README.md"] == "100644"


async def test_tags_are_listed_reverse_alphabetically_and_matching_refs_has_them_all(
    world: World,
) -> None:
    """``GET tags`` is not ordered by version or date: GitHub lists tags reverse alphabetically
    (docs/github-facts: "Tags: ... observed reverse alphabetical"), so ``v9`` comes before
    ``v10``; ``GET git/matching-refs/tags/`` (OpenAPI ``git/list-matching-refs``) lists every
    tag ref."""
    names = {"v9.0.0": "main", "v10.0.0": "main", "v1.2.0": "main", "v1.10.0": "main"}
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, tags=names))
    async with world.installation_github() as gh:
        tags = await gh.rest.repos.async_list_tags(OWNER, REPO)
        refs = await gh.rest.git.async_list_matching_refs(OWNER, REPO, "tags/")
    assert [t.name for t in tags.parsed_data] == ["v9.0.0", "v10.0.0", "v1.2.0", "v1.10.0"]
    assert {r.ref for r in refs.parsed_data} == {f"refs/tags/{name}" for name in names}


async def test_admin_pushes_seed_executables_and_links(world: World) -> None:
    """The admin API's pushes take git modes too, so a test repository can hold an executable
    (``100755``) and a symbolic link (``120000``, its content the target) as on GitHub."""
    files = {"bin/deploy.sh": "#!/bin/sh\n", "apps/current.yaml": "web/values.yaml"}
    modes = {"bin/deploy.sh": "100755", "apps/current.yaml": "120000"}
    await world.admin.run(calls.push(OWNER, REPO, pusher=OWNER, files=files, modes=modes))
    async with world.installation_github() as gh:
        tree = await gh.rest.git.async_get_tree(OWNER, REPO, "main", recursive="1")
    listed = {e.path: e.mode for e in tree.parsed_data.tree}
    assert {path: listed[path] for path in modes} == modes
    assert listed["README.md"] == "100644"
