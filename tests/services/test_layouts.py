"""One promotion path, dev -> staging -> prod, in the directory, branch and repository layouts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.inputs.events import ImagePushed, PullClosed
from bot.services.bump import handle_image_pushed
from bot.services.promote import handle_pull_closed
from tests.e2e.scenes import branch_config, repository_config
from tests.services.conftest import CONFIG_FILE, DIRECTORY_CONFIG, ENV_REPO, values, workspace
from tests.services.fakes import FakeGitHub

PROD_REPO = "acme/prod-env"  # the repository repository_config names

BRANCH_CONFIG = branch_config("acme")
REPO_CONFIG = repository_config("acme")

# Where each environment's values file lives: (repo, base branch, path).
Where = dict[str, tuple[str, str, str]]


def directory_layout(gh: FakeGitHub) -> Where:
    config = DIRECTORY_CONFIG.replace("{use: prod-safe, auto: true}", "auto")
    files = {CONFIG_FILE: config}
    files |= {f"envs/{env}/values.yaml": values("1.2.0") for env in ("dev", "staging", "prod")}
    gh.seed(ENV_REPO, files)
    return {
        env: (ENV_REPO, "main", f"envs/{env}/values.yaml") for env in ("dev", "staging", "prod")
    }


def branch_layout(gh: FakeGitHub) -> Where:
    gh.seed(ENV_REPO, {CONFIG_FILE: BRANCH_CONFIG})
    for env in ("dev", "staging", "prod"):
        gh.push(
            ENV_REPO, f"env/{env}", {CONFIG_FILE: BRANCH_CONFIG, "values.yaml": values("1.2.0")}
        )
    return {env: (ENV_REPO, f"env/{env}", "values.yaml") for env in ("dev", "staging", "prod")}


def repo_layout(gh: FakeGitHub) -> Where:
    gh.seed(
        ENV_REPO,
        {
            CONFIG_FILE: REPO_CONFIG,
            "dev/app.yaml": values("1.2.0"),
            "staging/app.yaml": values("1.2.0"),
        },
    )
    gh.seed(PROD_REPO, {"clusters/prod/app.yaml": values("1.2.0"), "README.md": "prod\n"})
    return {
        "dev": (ENV_REPO, "main", "dev/app.yaml"),
        "staging": (ENV_REPO, "main", "staging/app.yaml"),
        "prod": (PROD_REPO, "main", "clusters/prod/app.yaml"),
    }


@pytest.mark.parametrize("layout", [directory_layout, branch_layout, repo_layout])
async def test_version_travels_through_every_environment(
    gh: FakeGitHub, layout: Callable[[FakeGitHub], Where]
) -> None:
    where = layout(gh)
    event = ImagePushed(installation_id=1, registry="ghcr.io", repository="acme/api", tag="1.3.0")
    (outcome,) = await handle_image_pushed(event, workspace(gh))
    for env, after in (("dev", "staging"), ("staging", "prod"), ("prod", None)):
        repo, base, path = where[env]
        assert (outcome.environment, outcome.action) == (env, "opened")
        assert outcome.number is not None
        pull = gh.close(repo, outcome.number, merged=True)
        assert (pull.base_ref, pull.head_ref) == (base, f"promotion/api/{env}")
        assert gh.files_at(repo, base)[path] == values("1.3.0")
        closed = PullClosed(
            installation_id=1,
            repo=repo,
            number=pull.number,
            merged=True,
            head_ref=pull.head_ref,
            base_ref=base,
            body=pull.body,
        )
        outcomes = await handle_pull_closed(closed, workspace(gh))
        if after is None:
            assert [o.action for o in outcomes] == ["skipped"]
            assert "already runs in every environment" in outcomes[0].reason
        else:
            (outcome,) = outcomes
    # Only the environment's own file changed at each step.
    assert all(gh.files_at(r, b)[p] == values("1.3.0") for r, b, p in where.values())
