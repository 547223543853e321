"""Compare and release-notes links name the source repository's tags as the app's
``tag_pattern``/``image_tag`` describe them."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.core.config import parse_config
from bot.core.config.model import App
from bot.core.promotion.envfiles import EnvState
from bot.core.promotion.planner import Candidate, PromotionPlan, PullHistory, Target, plan_promotion
from bot.core.promotion.sourcetags import source_tag_prefix

DEFAULT_PATTERN = r"v?(?P<version>.+)"


@pytest.mark.parametrize(
    ("tag_pattern", "image_tag", "tag", "prefix"),
    [
        (DEFAULT_PATTERN, "{version}", "1.4.0", "v"),  # git tag v1.4.0, image 1.4.0
        (r"(?P<version>.+)", "{version}", "1.4.0", ""),  # bare version tags
        (r"release-(?P<version>.+)", "{version}", "1.4.0", "release-"),
        (r"release\-(?P<version>\d+\.\d+\.\d+)", "{version}", "1.4.0", "release-"),
        (r"api/v(?P<version>.+)", "{version}", "1.4.0", "api/v"),  # a monorepo's tags
        (r"v(?P<version>.+)", "v{version}", "v1.4.0", "v"),  # the images keep the v
        # No candidate maps back: links keep writing v, as before.
        (DEFAULT_PATTERN, "{version}", "v1.4.0", "v"),  # v? takes the image's own v
        (r"(?P<environment>staging|prod)-v(?P<version>.+)", "v{version}", "v1.4.0", "v"),
        (r"r\d+-(?P<version>.+)", "{version}", "1.4.0", "v"),  # a start that is no literal
    ],
)
def test_the_prefix_is_the_one_the_app_maps_back(
    tag_pattern: str, image_tag: str, tag: str, prefix: str
) -> None:
    app = App(name="api", image="ghcr.io/acme/api", tag_pattern=tag_pattern, image_tag=image_tag)
    assert source_tag_prefix(app, tag) == prefix


CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
apps:
  api:
    image: ghcr.io/acme/api
    source: acme/api
"""


@pytest.mark.parametrize(
    ("extra", "compare", "release"),
    [
        ("", "compare/v1.2.0...v1.3.0", "releases/tag/v1.3.0"),
        (
            '    tag_pattern: "release-(?P<version>.+)"\n',
            "compare/release-1.2.0...release-1.3.0",
            "releases/tag/release-1.3.0",
        ),
    ],
)
def test_the_plan_links_the_tags_the_config_names(extra: str, compare: str, release: str) -> None:
    config = parse_config(CONFIG + extra, builtin=builtin_policies())
    files = {"envs/dev/values.yaml": "image:\n  repository: ghcr.io/acme/api\n  tag: 1.2.0\n"}
    result = plan_promotion(
        config,
        Target("api", "dev", "1.2.0", "reason"),
        Candidate("1.3.0"),
        EnvState("dev", files),
        PullHistory(),
        web_url="https://github.com",
    )
    assert isinstance(result, PromotionPlan)
    assert f"(https://github.com/acme/api/{compare})" in result.body
    assert f"(https://github.com/acme/api/{release})" in result.body
