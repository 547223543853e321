"""Versions on offer: events to candidates, environment files, closed PRs to declines."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.core.config import PromotionConfig, parse_config
from bot.core.markup.metadata import Meta
from bot.core.promotion.candidates import (
    PullRecord,
    apps_for_image,
    candidates_for_git_tag,
    offered_image_tags,
    pull_history,
)
from bot.core.promotion.envfiles import EnvState, environment_files, running_tags
from bot.core.promotion.planner import OpenPull, PullHistory

CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: prod
    path: envs/prod
apps:
  api:
    image: ghcr.io/acme/api
    source: acme/api
  worker:
    image: ghcr.io/acme/api
    source: acme/api
    tag_pattern: "(?P<environment>dev|prod)-v(?P<version>.+)"
    image_tag: "v{version}"
  hub:
    image: nginx
"""


@pytest.fixture(scope="module")
def config() -> PromotionConfig:
    return parse_config(CONFIG, builtin=builtin_policies())


@pytest.mark.parametrize(
    ("image", "apps"),
    [
        ("ghcr.io/acme/api", ("api", "worker")),
        ("docker.io/library/nginx", ("hub",)),
        ("index.docker.io/nginx", ("hub",)),
        ("ghcr.io/acme/other", ()),
    ],
)
def test_apps_for_image(config: PromotionConfig, image: str, apps: tuple[str, ...]) -> None:
    assert apps_for_image(config, image) == apps


@pytest.mark.parametrize(
    ("repo", "tag", "expected"),
    [
        ("acme/api", "v1.2.3", [("api", "1.2.3", None)]),
        ("ACME/api", "1.2.3", [("api", "1.2.3", None)]),
        ("acme/api", "prod-v1.2.3", [("api", "prod-v1.2.3", None), ("worker", "v1.2.3", "prod")]),
        ("acme/other", "v1.2.3", []),
    ],
)
def test_candidates_for_git_tag(
    config: PromotionConfig, repo: str, tag: str, expected: list[tuple[str, str, str | None]]
) -> None:
    found = candidates_for_git_tag(config, repo, tag, source="test")
    assert [(app, c.tag, c.environment) for app, c in found] == expected


def test_offered_image_tags_leave_out_targeted_tags(config: PromotionConfig) -> None:
    assert offered_image_tags(config, "worker", ["prod-v1.0.0", "v2"]) == ()
    assert offered_image_tags(config, "api", ["v1.0.0", "1.0.0", "v1.1.0"]) == ("1.0.0", "1.1.0")


@pytest.mark.parametrize(
    ("paths", "root", "globs", "expected"),
    [
        (["envs/dev/a.yaml", "envs/dev/b.txt", "envs/prod/a.yaml"], "envs/dev", None,
         ["envs/dev/a.yaml"]),
        (["a.yml", ".github/promotion.yml", "x/b.yaml"], ".", None, ["a.yml", "x/b.yaml"]),
        (["envs/dev/worker.yaml", "envs/dev/x/worker-2.yaml", "envs/dev/api.yaml"], "envs/dev",
         ("**/worker*.yaml",), ["envs/dev/worker.yaml", "envs/dev/x/worker-2.yaml"]),
        (["envs/dev/values.yaml", "envs/dev/x/values.yaml"], "envs/dev", ("values.yaml",),
         ["envs/dev/values.yaml"]),
        (["envs/dev/a.json"], "envs/dev", ("*.json",), ["envs/dev/a.json"]),
        (["envs/devx/a.yaml"], "envs/dev", None, []),
    ]
)  # fmt: skip
def test_environment_files(
    paths: list[str], root: str, globs: tuple[str, ...] | None, expected: list[str]
) -> None:
    assert list(environment_files(paths, root=root, globs=globs)) == expected


def test_running_tags_most_used_first() -> None:
    files = {
        "a.yaml": "image: ghcr.io/acme/api:1.0.0\n",
        "b.yaml": "x:\n  image: ghcr.io/acme/api:2.0.0\ny:\n  image: ghcr.io/acme/api:2.0.0\n",
        "c.yaml": "not: [valid",  # never names the image: not parsed
    }
    assert running_tags(EnvState("dev", files), "ghcr.io/acme/api") == ("2.0.0", "1.0.0")


def meta(version: str, *, env: str = "dev", declined: tuple[str, ...] = ()) -> Meta:
    return Meta("promotion-pr", app="api", environment=env, version=version, declined=declined)


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], PullHistory()),
        ([PullRecord(3, True, False, meta("1.3.0"))], PullHistory(OpenPull(3, "1.3.0"))),
        (
            [PullRecord(3, True, False, meta("1.3.1")), PullRecord(2, False, False, meta("1.3.0"))],
            PullHistory(OpenPull(3, "1.3.1"), ("1.3.0",)),
        ),
        ([PullRecord(2, False, True, meta("1.3.0"))], PullHistory()),
        ([PullRecord(2, False, False, None)], PullHistory()),
        ([PullRecord(2, False, False, meta("1.3.0", env="prod"))], PullHistory()),
        (
            [PullRecord(5, False, True, meta("1.4.0", declined=("1.2.0",)))],
            PullHistory(None, ("1.2.0",)),
        ),
    ],
)
def test_pull_history(records: list[PullRecord], expected: PullHistory) -> None:
    assert pull_history(records, app="api", environment="dev") == expected
