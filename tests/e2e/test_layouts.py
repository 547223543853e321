"""One version travels dev -> staging -> prod in the branch-per-environment and the
repository-per-environment layouts (the directory layout is ``test_promotion``'s)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.demo.harness import Stack
from github_sandbox.collab_admin import ActAs
from tests.e2e.harness import Org, organisation
from tests.e2e.scenes import (
    APP_REPO,
    CONFIG_FILE,
    ENVS,
    branch_config,
    repository_config,
    values,
)
from tests.e2e.test_promotion import publish, pull_for


@dataclass(frozen=True)
class Layout:
    """How to build the layout for an organisation, and where each environment's file is:
    env -> (repository, base branch, path)."""

    build: Callable[[Stack, str], Org]
    where: dict[str, tuple[str, str, str]]


def branch_layout(stack: Stack, org: str) -> Org:
    envs = {f"env/{env}": {"values.yaml": values(org, "1.2.0")} for env in ENVS}
    repos = {"env": {CONFIG_FILE: branch_config(org)}, "api": APP_REPO}
    return organisation(stack, org, repos, branches={"env": envs})


def repository_layout(stack: Stack, org: str) -> Org:
    env = {CONFIG_FILE: repository_config(org)}
    env |= {f"{name}/app.yaml": values(org, "1.2.0") for name in ("dev", "staging")}
    prod = {"clusters/prod/app.yaml": values(org, "1.2.0"), "README.md": "# prod\n"}
    return organisation(stack, org, {"env": env, "prod-env": prod, "api": APP_REPO})


LAYOUTS = {
    "branch": Layout(branch_layout, {env: ("env", f"env/{env}", "values.yaml") for env in ENVS}),
    "repository": Layout(
        repository_layout,
        {
            "dev": ("env", "main", "dev/app.yaml"),
            "staging": ("env", "main", "staging/app.yaml"),
            "prod": ("prod-env", "main", "clusters/prod/app.yaml"),
        },
    ),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_a_version_travels_through_every_environment(stack: Stack, name: str) -> None:
    layout = LAYOUTS[name]
    org = layout.build(stack, f"layout-{name}")
    publish(stack, org, "1.3.0")
    for env in ENVS:
        repo, base, path = layout.where[env]
        pull = pull_for(org, env, "1.3.0", repo=repo)
        assert pull["base"]["ref"] == base
        files = org.view.get(f"/repos/{org.repo(repo)}/pulls/{pull['number']}/files")
        assert [f["filename"] for f in files] == [path]
        stack.admin.run(ActAs(org.person).merge(org.name, repo, pull["number"]))
    for repo, base, path in layout.where.values():
        assert org.view.file(org.repo(repo), path, base) == values(org.name, "1.3.0")
