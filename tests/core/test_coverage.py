"""Image references per app and environment, and globs that match nothing (core, tables)."""

from __future__ import annotations

import pytest

from bot.core.config import Policy, PromotionConfig, parse_config
from bot.core.promotion.coverage import (
    ReferenceCount,
    UnmatchedGlob,
    count_references,
    unmatched_globs,
    wanted_paths,
)
from bot.core.promotion.envfiles import EnvState

CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: prod
    path: envs/prod
defaults:
  files: [{defaults}]
apps:
  api:
    image: ghcr.io/acme/api
    {api_files}
  web:
    image: ghcr.io/acme/web
    environments: [prod]
"""

API = "image: ghcr.io/acme/api:1.0.0\n"
BOTH = "- image: ghcr.io/acme/api:1.0.0\n- image: ghcr.io/acme/web:2.0.0\n"


def config(*, defaults: str = '"**/*.yaml"', api_files: str = "") -> PromotionConfig:
    text = CONFIG.format(defaults=defaults, api_files=api_files)
    return parse_config(text, builtin={"auto": Policy()})


@pytest.mark.parametrize(
    ("api_files", "files", "expected"),
    [
        pytest.param(
            "",
            {"dev": {"envs/dev/a.yaml": API}, "prod": {"envs/prod/a.yaml": BOTH}},
            [("api", "dev", 1), ("api", "prod", 1), ("web", "prod", 1)],
            id="every-app-found",
        ),
        pytest.param(
            "",
            {"dev": {"envs/dev/a.yaml": API, "envs/dev/b.yaml": API}, "prod": {}},
            [("api", "dev", 2), ("api", "prod", 0), ("web", "prod", 0)],
            id="empty-environment",
        ),
        pytest.param(
            "files: [values.yaml]",
            {"dev": {"envs/dev/a.yaml": API}, "prod": {"envs/prod/values.yaml": BOTH}},
            [("api", "dev", 0), ("api", "prod", 1), ("web", "prod", 1)],
            id="app-glob-narrows",
        ),
        pytest.param(
            "",
            {"prod": {"envs/prod/a.yaml": BOTH}},
            [("api", "prod", 1), ("web", "prod", 1)],
            id="unread-environment-left-out",
        ),
    ],
)
def test_count_references(api_files, files, expected):
    states = {name: EnvState(name, texts) for name, texts in files.items()}
    counts = count_references(config(api_files=api_files), states)
    assert [(c.app, c.environment, c.references) for c in counts] == expected


def test_a_file_that_does_not_parse_is_a_count_of_none_with_why():
    states = {"dev": EnvState("dev", {"envs/dev/a.yaml": "image: ghcr.io/acme/api:1\nx: [\n"})}
    (count,) = count_references(config(), states)
    assert count == ReferenceCount("api", "dev", None, count.reason)
    assert "envs/dev/a.yaml" in count.reason


@pytest.mark.parametrize(
    ("defaults", "api_files", "paths", "expected"),
    [
        pytest.param(
            '"**/*.yaml"',
            "files: [values.yaml]",
            {"dev": ("envs/dev/values.yaml",), "prod": ()},
            [],
            id="all-match-somewhere",
        ),
        pytest.param(
            '"**/*.yaml"',
            "files: [values.yaml, kustomization.yml]",
            {"dev": ("envs/dev/values.yaml",), "prod": ("envs/prod/values.yaml",)},
            [(("apps", "api", "files", 1), "kustomization.yml", ("dev", "prod"))],
            id="app-glob-unmatched",
        ),
        pytest.param(
            '"*.yml"',
            "",
            {"dev": ("envs/dev/values.yaml",)},
            [(("defaults", "files", 0), "*.yml", ("dev",))],
            id="defaults-glob-unmatched",
        ),
        pytest.param(
            '"*.yml"',
            "files: [x.yaml]",
            {},
            [],
            id="nothing-checked-nothing-said",
        ),
    ],
)
def test_unmatched_globs(defaults, api_files, paths, expected):
    found = unmatched_globs(config(defaults=defaults, api_files=api_files), paths)
    assert found == tuple(UnmatchedGlob(*row) for row in expected)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("dev", {"envs/dev/values.yaml"}),
        ("prod", {"envs/prod/values.yaml", "envs/prod/web.yaml"}),
    ],
)
def test_wanted_paths_are_what_some_app_of_the_environment_reads(environment, expected):
    paths = (
        "envs/dev/values.yaml",
        "envs/dev/web.yaml",
        "envs/dev/notes.txt",
        "envs/prod/values.yaml",
        "envs/prod/web.yaml",
    )
    chosen = config(defaults='"web.yaml"', api_files="files: [values.yaml]")
    assert wanted_paths(chosen, environment, paths) == expected
