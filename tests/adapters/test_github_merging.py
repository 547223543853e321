"""Labels and automerge through the real use cases, the adapter and the in-process sandbox,
which plays GitHub's rules: ``labels`` on ``PATCH issues/{n}`` replace the set [OA
issues/update], ``mergeable`` is null while GitHub computes it and a merge then answers 405
"Base branch was modified" [OA pulls/get, pulls/merge], and a repository may forbid squash
merges (``allow_squash_merge`` [OA repos/get])."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.adapters.github import GitHubGateway
from bot.services.bump import handle_image_pushed
from bot.services.ports import RetryLater
from bot.services.review import review_pull
from bot.services.workspace import ConfigCache
from github_sandbox import admin_client as calls
from tests.adapters.test_github_ports import grant
from tests.adapters.test_github_usecases import GITOPS, pushed, workspace
from tests.sandbox.conftest import OWNER, World
from tests.services.conftest import CONFIG_FILE, DIRECTORY_CONFIG, values

pytest_plugins = ["tests.adapters.test_github_ports"]

FILES = '    files: ["values.yaml"]\n'


async def gitops(gateway: GitHubGateway, world: World, config: str) -> ConfigCache:
    files = {CONFIG_FILE: config}
    files |= {f"envs/{env}/values.yaml": values("1.2.0") for env in ("dev", "staging", "prod")}
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files))
    await world.admin.run(grant(world.installation_id, "gitops"))
    return ConfigCache(builtin_policies())


async def test_an_update_keeps_a_persons_label(gateway: GitHubGateway, world: World) -> None:
    cache = await gitops(gateway, world, DIRECTORY_CONFIG)
    ws = workspace(gateway, world, cache)
    (opened,) = await handle_image_pushed(pushed("1.3.0"), ws)
    assert opened.number is not None
    await review_pull(workspace(gateway, world, cache), GITOPS, opened.number)
    pulls = gateway.ports_for(world.installation_id).pulls
    await pulls.add_labels(GITOPS, opened.number, ["do-not-merge"])  # a person's
    (updated,) = await handle_image_pushed(pushed("1.3.1"), workspace(gateway, world, cache))
    assert updated.action == "updated"
    got = await pulls.get(GITOPS, opened.number)
    assert "1.3.1" in got.title and set(got.labels) == {"promotion", "do-not-merge"}


async def test_automerge_waits_for_mergeability_and_uses_an_allowed_method(
    gateway: GitHubGateway, world: World
) -> None:
    config = DIRECTORY_CONFIG.replace(FILES, FILES + "    policy:\n      dev: automerge\n")
    cache = await gitops(gateway, world, config)
    await world.admin.run(calls.merge_settings(OWNER, "gitops", squash=False))
    (opened,) = await handle_image_pushed(pushed("1.3.0"), workspace(gateway, world, cache))
    assert opened.number is not None
    with pytest.raises(RetryLater, match="computing mergeability"):
        await review_pull(workspace(gateway, world, cache), GITOPS, opened.number)
    world.sandbox.advance_clock(world.sandbox.mergeability_seconds)
    await review_pull(workspace(gateway, world, cache), GITOPS, opened.number)
    ports = gateway.ports_for(world.installation_id)
    merged = await ports.pulls.get(GITOPS, opened.number)
    assert merged.merged
    log = await world.admin.run(calls.requests_log(installation_id=world.installation_id))
    merges = [r for r in log if r["method"] == "PUT" and r["route"].endswith("/merge")]
    assert [r["status"] for r in merges] == [200]  # never tried a squash the repo forbids
    comments = await ports.comments.list(GITOPS, opened.number)
    assert not any("Automerge did not merge" in c.body for c in comments)
