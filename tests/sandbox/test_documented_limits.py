"""GitHub's documented limits and answer headers that the bot depends on: caching headers and
per-credential ETags, truncated recursive trees, the cap on a pull request's files, big files
from the contents API, the default branch that cannot be deleted, and the error body of an
unknown route. Each test names its source; the sandbox's limits are set small here."""

from __future__ import annotations

import base64

import httpx
import pytest
from githubkit.exception import RequestFailed

from bot.adapters.github import GitHubGateway
from github_sandbox import admin_client as calls
from github_sandbox.routes_history import PATCH_MAX_LINES
from tests.sandbox.conftest import OWNER, REPO, World
from tests.sandbox.test_pulls import parsed_list, push_branch

MAIN_REF = f"/repos/{OWNER}/{REPO}/git/ref/heads/main"


async def test_get_answers_vary_by_credential_and_are_private(world: World) -> None:
    """docs "Getting started with the REST API" (response headers: ``Cache-Control: public,
    max-age=60, s-maxage=60`` without credentials) and the answers GitHub sends to
    authenticated GETs (``private``; ``Vary: Accept, Authorization, Cookie, X-GitHub-OTP``,
    notes/github-facts.md "Caching")."""
    async with world.installation_github() as gh:
        answer = await gh.arequest("GET", f"/repos/{OWNER}/{REPO}")
    async with httpx.AsyncClient(transport=world.transport, base_url=world.base_url) as raw:
        anonymous = await raw.get(f"/repos/{OWNER}/{REPO}")
    assert answer.headers["cache-control"] == "private, max-age=60, s-maxage=60"
    assert anonymous.headers["cache-control"] == "public, max-age=60, s-maxage=60"
    for response in (answer, anonymous):
        varies = [v.strip() for v in response.headers["vary"].split(",")]
        assert {"Accept", "Authorization", "Cookie", "X-GitHub-OTP"} <= set(varies)


async def test_etag_is_good_only_for_the_credential_that_got_it(world: World) -> None:
    """docs "Best practices for using the REST API" (conditional requests) with ``Vary:
    Authorization``: the same answer for another credential is a 200, never a 304."""
    user = await world.admin.run(calls.create_user("reader"))
    async with world.installation_github() as gh, world.token_github(user.token) as other:
        first = await gh.arequest("GET", MAIN_REF)
        etag = first.headers["etag"]
        again = await gh.arequest("GET", MAIN_REF, headers={"If-None-Match": etag})
        elsewhere = await other.arequest("GET", MAIN_REF, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "private, max-age=60, s-maxage=60"
    assert elsewhere.status_code == 200 and elsewhere.json() == first.json()
    assert elsewhere.headers["etag"] != etag


async def test_recursive_tree_past_the_limit_is_truncated(world: World) -> None:
    """OpenAPI ``git/get-tree``: "If ``truncated`` is ``true`` in the response then the number
    of items in the ``tree`` array exceeded our maximum limit" (100,000 entries or 7 MB with
    ``recursive``); fetch sub-trees one at a time instead."""
    world.sandbox.tree_entry_limit = 2
    async with world.installation_github() as gh:
        deep = (await gh.rest.git.async_get_tree(OWNER, REPO, "main", recursive="1")).parsed_data
        flat = (await gh.rest.git.async_get_tree(OWNER, REPO, "main")).parsed_data
        world.sandbox.tree_entry_limit = 100
        whole = (await gh.rest.git.async_get_tree(OWNER, REPO, "main", recursive="1")).parsed_data
    assert deep.truncated is True and len(deep.tree) == 2
    assert whole.truncated is False
    assert [e.path for e in deep.tree] == [e.path for e in whole.tree][:2]
    assert sorted(e.path for e in whole.tree) == [
        "README.md",
        "apps",
        "apps/web",
        "apps/web/values.yaml",
    ]
    assert flat.truncated is False and [e.path for e in flat.tree] == ["README.md", "apps"]


async def test_pull_request_files_stop_at_the_cap(world: World) -> None:
    """OpenAPI ``pulls/list-files``: "Responses include a maximum of 3000 files"."""
    world.sandbox.pull_files_limit = 2
    await push_branch(world, "many", {f"apps/a{i}/values.yaml": f"tag: {i}\n" for i in range(3)})
    async with world.installation_github() as gh:
        created = await gh.rest.pulls.async_create(
            OWNER, REPO, title="many", head="many", base="main"
        )
        number = created.parsed_data.number
        page = parsed_list(await gh.rest.pulls.async_list_files(OWNER, REPO, number))
        every = [
            f.filename
            async for f in gh.rest.paginate(
                gh.rest.pulls.async_list_files,
                owner=OWNER,
                repo=REPO,
                pull_number=number,
                per_page=1,
            )
        ]
        pull = (await gh.rest.pulls.async_get(OWNER, REPO, number)).parsed_data
    assert [f.filename for f in page] == ["apps/a0/values.yaml", "apps/a1/values.yaml"]
    assert every == [f.filename for f in page]
    assert pull.changed_files == 3


async def test_a_diff_too_large_to_show_has_no_patch(world: World) -> None:
    """OpenAPI ``diff-entry``: ``patch`` is not required, and "Diffs with binary data will have
    no ``patch`` property" (``repos/get-commit``); the unified diff stops at 20,000 lines. A
    client that lists a PR's files never downloads a huge file's whole diff."""
    huge = "".join(f"line {n}\n" for n in range(PATCH_MAX_LINES + 1))
    await push_branch(world, "huge", {"apps/huge.yaml": huge, "apps/small.yaml": "tag: 1\n"})
    async with world.installation_github() as gh:
        created = await gh.rest.pulls.async_create(
            OWNER, REPO, title="huge", head="huge", base="main"
        )
        listed = await gh.arequest(
            "GET", f"/repos/{OWNER}/{REPO}/pulls/{created.json()['number']}/files"
        )
    files = {f["filename"]: f for f in listed.json()}
    assert "patch" not in files["apps/huge.yaml"] and files["apps/huge.yaml"]["additions"] > 0
    assert files["apps/small.yaml"]["patch"] == "@@ -0,0 +1 @@\n+tag: 1"


@pytest.mark.parametrize("accept", ["application/vnd.github+json", "application/vnd.github.object"])
async def test_big_file_contents_only_raw(world: World, accept: str) -> None:
    """OpenAPI ``repos/get-content``: files between 1 and 100 MB "only the raw or object custom
    media types are supported"; with the object type "the content field will be an empty string
    and the encoding field will be ``none``". The JSON answer keeps its size and sha."""
    world.sandbox.contents_inline_limit = 10
    path = f"/repos/{OWNER}/{REPO}/contents/apps/web/values.yaml"
    async with world.installation_github() as gh:
        big = (await gh.arequest("GET", path, headers={"Accept": accept})).json()
        raw = await gh.arequest("GET", path, headers={"Accept": "application/vnd.github.raw+json"})
        small = (await gh.rest.repos.async_get_content(OWNER, REPO, "README.md")).json()
    assert (big["encoding"], big["content"], big["size"]) == ("none", "", 20)
    assert raw.content == b"image:\n  tag: 1.0.0\n"
    assert base64.b64decode(small["content"]) == b"# env\n" and small["encoding"] == "base64"


async def test_default_branch_cannot_be_deleted(world: World) -> None:
    """OpenAPI ``git/delete-ref`` (answers 422); GitHub refuses to delete a repository's default
    branch ("refusing to delete the current branch"), while other branches go."""
    await push_branch(world, "feature", {"x.txt": "x\n"})
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.rest.git.async_delete_ref(OWNER, REPO, "heads/main")
        still = await gh.rest.git.async_get_ref(OWNER, REPO, "heads/main")
        gone = await gh.rest.git.async_delete_ref(OWNER, REPO, "heads/feature")
    assert err.value.response.status_code == 422
    body = err.value.response.json()
    assert body["status"] == "422" and body["documentation_url"].startswith("https://docs.github")
    assert still.status_code == 200 and gone.status_code == 204


async def test_unknown_route_has_github_error_body(world: World) -> None:
    """docs "Troubleshooting the REST API" (404 Not Found) and the OpenAPI ``basic-error``
    schema: ``{"message", "documentation_url", "status"}``, also for a path no route serves."""
    async with world.installation_github() as gh:
        with pytest.raises(RequestFailed) as err:
            await gh.arequest("GET", f"/repos/{OWNER}/{REPO}/no-such-thing/here")
    assert err.value.response.status_code == 404
    assert err.value.response.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


async def test_the_bots_adapter_reads_a_truncated_tree_subtree_by_subtree(world: World) -> None:
    """OpenAPI ``git/get-tree``: past the limit, "use the non-recursive method of fetching
    trees, and fetch one sub-tree at a time"; the bot's adapter does, and sees every file."""
    head = await push_branch(world, "deep", {f"apps/a{i}/values.yaml": "x\n" for i in range(3)})
    world.sandbox.tree_entry_limit = 3
    async with GitHubGateway(
        app_id=world.app.id,
        private_key=world.app.pem,
        base_url=world.base_url,
        transport=world.transport,
    ) as gateway:
        tree = await gateway.ports_for(world.installation_id).git.tree(f"{OWNER}/{REPO}", head)
    log = await world.admin.run(calls.requests_log(installation_id=world.installation_id))
    trees = [r["path"] for r in log if r["route"].endswith("/git/trees/{tree_sha}")]
    assert len(trees) > 1, "one recursive read, then the subtrees one at a time"
    assert sorted(tree.blobs) == [
        "README.md",
        "apps/a0/values.yaml",
        "apps/a1/values.yaml",
        "apps/a2/values.yaml",
        "apps/web/values.yaml",
    ]
