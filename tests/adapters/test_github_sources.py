"""Git tags for reconciling are read in full and in no trusted order: GitHub lists ``GET tags``
reverse alphabetically, not by version or date (docs/github-facts: "observed reverse
alphabetical"), so a repository with more than 300 tags, or a ``v10`` that sorts after every
``v2.x`` in that order, hid its newest release from "the first three pages"."""

from __future__ import annotations

from bot.services.github_ports import GitHubPorts
from github_sandbox import admin_client as calls
from github_sandbox.gitcore import run_git
from tests.adapters.test_github_ports import api_calls, billed_calls, grant, reset
from tests.sandbox.conftest import OWNER, World

pytest_plugins = ["tests.adapters.test_github_ports"]

SOURCE = f"{OWNER}/web"


async def tag_many(world: World, names: list[str]) -> None:
    """A source repository with ``names`` as lightweight tags on main (one git call)."""
    await world.admin.run(calls.create_repo(OWNER, "web", files={"README.md": "web\n"}))
    await world.admin.run(grant(world.installation_id, "web"))
    repo = world.sandbox.repo_by_name(OWNER, "web")
    assert repo is not None
    git = world.sandbox.git(repo)
    head = git.ref_sha("refs/heads/main")
    lines = "".join(f"create refs/tags/{name} {head}\n" for name in names)
    run_git(git.path, ["update-ref", "--stdin"], stdin=lines.encode())


async def test_every_tag_is_read_whatever_github_lists_first(
    ports: GitHubPorts, world: World
) -> None:
    old = [f"v2.0.{n}" for n in range(300)]
    await tag_many(world, [*old, "v10.0.0"])  # v10.0.0 comes last in GET tags
    tags = await ports.sources.list_tags(SOURCE)
    assert set(tags) == {*old, "v10.0.0"}


async def test_reading_the_tags_again_costs_only_304s(ports: GitHubPorts, world: World) -> None:
    await tag_many(world, ["v1.0.0", "v1.1.0"])
    await ports.sources.list_tags(SOURCE)
    await reset(world)
    assert set(await ports.sources.list_tags(SOURCE)) == {"v1.0.0", "v1.1.0"}
    assert await api_calls(world) and await billed_calls(world) == []
