"""The drift audit's API budget over the adapter and the in-process sandbox (issue 12): at most
(environment refs + differing blobs + 5) REST calls, counted from the sandbox's request log, and
a repeat run with nothing changed writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.catalog import builtin_policies
from bot.adapters.github import GitHubGateway
from bot.adapters.versions_memory import VersionsInMemory
from bot.services.drift import audit_repository
from bot.services.drift_report import publish
from bot.services.workspace import ConfigCache, Workspace
from github_sandbox import admin_client as calls
from tests.adapters.test_github_ports import api_calls, billed_calls, grant, reset
from tests.sandbox.conftest import OWNER, World
from tests.services.conftest import CONFIG_FILE, DIRECTORY_CONFIG, values

pytest_plugins = ["tests.adapters.test_github_ports"]

GITOPS = f"{OWNER}/gitops"
APPS = 20


def workspace(gateway: GitHubGateway, world: World, cache: ConfigCache) -> Workspace:
    ports = gateway.ports_for(world.installation_id)
    clock = lambda: datetime.now(UTC)  # noqa: E731
    return Workspace(ports, cache, clock, VersionsInMemory(), world.installation_id)


async def test_an_audit_reads_refs_and_differing_blobs_and_a_repeat_writes_nothing(
    gateway: GitHubGateway, world: World
) -> None:
    config = DIRECTORY_CONFIG.replace('files: ["values.yaml"]', 'files: ["api/values.yaml"]')
    files = {CONFIG_FILE: config}
    for env in ("dev", "staging", "prod"):
        tag = "1.2.0" if env == "prod" else "1.3.0"
        files[f"envs/{env}/api/values.yaml"] = values(tag)
        # Many files the same everywhere: equal by blob, never read.
        files |= {f"envs/{env}/shared/f{n}.yaml": f"key: {n}\n" for n in range(APPS)}
    files["envs/prod/shared/f0.yaml"] = "key: changed by hand\n"
    await world.admin.run(calls.create_repo(OWNER, "gitops", files=files))
    await world.admin.run(grant(world.installation_id, "gitops"))
    cache = ConfigCache(builtin_policies())
    ws = workspace(gateway, world, cache)
    (loaded,) = await ws.configs_of_installation()

    await reset(world)
    report = await audit_repository(workspace(gateway, world, cache), loaded)
    spent = await api_calls(world)
    assert report.count == 2  # api behind in prod, a value changed by hand
    refs = 1  # the three environments share main
    differing = 3  # staging's and prod's shared/f0.yaml, and the api values (1.3.0, 1.2.0) ...
    blobs = [c for c in spent if c[1].endswith("/git/blobs/{file_sha}")]
    assert len(blobs) <= differing + 1, spent  # ... and only those: 20 shared files unread
    # heads, 4 blobs, open and closed PRs, the commits under prod's path, the holds: 9
    assert len(spent) <= refs + len(blobs) + 5, spent

    outcome, number = await publish(workspace(gateway, world, cache), loaded)
    assert (outcome, number) == ("opened", 1)
    await reset(world)
    again = await publish(workspace(gateway, world, cache), loaded)
    assert again == ("unchanged", 1)
    spent = await billed_calls(world)
    assert not [c for c in spent if c[0] != "GET"], spent  # nothing written
    # Once the report's own listing is read after its opening settled, a run with nothing
    # changed is 304s only, at no rate-limit cost.
    await publish(workspace(gateway, world, cache), loaded)
    await reset(world)
    assert await publish(workspace(gateway, world, cache), loaded) == ("unchanged", 1)
    assert await billed_calls(world) == []
    assert len(await api_calls(world)) == 6
