"""Environment repositories in the three layouts, a fake GitHub and a workspace over it."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.adapters.versions_memory import VersionsInMemory
from bot.core.inputs.events import PullClosed
from bot.services.promote import handle_pull_closed
from bot.services.workspace import ConfigCache, Workspace
from tests.services.fakes import FakeGitHub

ENV_REPO = "acme/gitops"
CONFIG_FILE = ".github/promotion.yml"


def values(tag: str, extra: str = "") -> str:
    return f"# api values\nimage:\n  repository: ghcr.io/acme/api\n  tag: {tag}  # pinned\n{extra}"


DIRECTORY_CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
  - name: prod
    path: envs/prod
    policy: {use: prod-safe, auto: true}
apps:
  api:
    image: ghcr.io/acme/api
    source: acme/api
    files: ["values.yaml"]
"""


def directory_repo(
    gh: FakeGitHub,
    *,
    config: str = DIRECTORY_CONFIG,
    tags: tuple[str, str, str] = ("1.2.0", "1.2.0", "1.2.0"),
) -> None:
    files = {CONFIG_FILE: config, "README.md": "# envs\n"}
    for env, tag in zip(("dev", "staging", "prod"), tags, strict=True):
        files[f"envs/{env}/values.yaml"] = values(tag)
        files[f"envs/{env}/other.yaml"] = "replicas: 2\n"
    gh.seed(ENV_REPO, files)


def workspace(gh: FakeGitHub, cache: ConfigCache | None = None) -> Workspace:
    configs = cache or ConfigCache(builtin_policies())
    return Workspace(gh.ports(), configs, lambda: gh.now, VersionsInMemory(), installation_id=1)


@pytest.fixture
def gh() -> FakeGitHub:
    return FakeGitHub()


async def close(gh: FakeGitHub, ws: Workspace, number: int, *, merged: bool) -> list[str]:
    """Close PR ``number`` in the environment repo as a person would, and let the bot react:
    ``environment:action`` of each outcome."""
    pull = gh.close(ENV_REPO, number, merged=merged)
    event = PullClosed(
        installation_id=1,
        repo=ENV_REPO,
        number=number,
        merged=merged,
        head_ref=pull.head_ref,
        base_ref=pull.base_ref,
        body=pull.body,
    )
    return [f"{o.environment}:{o.action}" for o in await handle_pull_closed(event, ws)]
