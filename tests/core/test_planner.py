"""The pure promotion planner: target choice and plans, as tables."""

from __future__ import annotations

import pytest

from bot.adapters.catalog import builtin_policies
from bot.core.config import PromotionConfig, parse_config
from bot.core.markup.metadata import extract
from bot.core.promotion.envfiles import EnvState
from bot.core.promotion.planner import (
    Candidate,
    NeedState,
    OpenPull,
    PromotionPlan,
    PullHistory,
    Skip,
    Target,
    choose_target,
    plan_promotion,
)

CONFIG = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: staging
    path: envs/staging
    policy: minor
  - name: prod
    path: envs/prod
    policy: prod-safe
apps:
  api:
    image: ghcr.io/acme/api
    source: acme/api
  web:
    image: ghcr.io/acme/web
    environments: [staging, prod]
labels: [promotion, automated]
"""


NO_PULLS = PullHistory()


@pytest.fixture(scope="module")
def config() -> PromotionConfig:
    return parse_config(CONFIG, builtin=builtin_policies())


def values(tag: str, image: str = "ghcr.io/acme/api") -> str:
    return f"image:\n  repository: {image}\n  tag: {tag}\n"


def state(env: str, tag: str | None) -> EnvState:
    return EnvState(env, {} if tag is None else {f"envs/{env}/values.yaml": values(tag)})


def states(dev: str | None, staging: str | None, prod: str | None) -> dict[str, EnvState]:
    given = {"dev": dev, "staging": staging, "prod": prod}
    return {env: state(env, tag) for env, tag in given.items() if tag is not None}


@pytest.mark.parametrize(
    ("tags", "candidate", "reached", "expected"),
    [
        (("1.2.0", "1.2.0", "1.2.0"), Candidate("1.3.0"), (), ("target", "dev", "1.2.0")),
        (("1.3.0", "1.2.0", "1.2.0"), Candidate("1.3.0"), (), ("target", "staging", "1.2.0")),
        (("1.3.0", "1.3.0", "1.2.0"), Candidate("1.3.0"), (), ("target", "prod", "1.2.0")),
        (("1.3.0", "1.3.0", "1.3.0"), Candidate("1.3.0"), (), ("skip", None, "already runs")),
        (("2.0.0", "1.2.0", "1.2.0"), Candidate("2.0.0"), (), ("skip", "staging", "refuses 2.0.0")),
        (("1.2.0", "1.2.0", "1.2.0"), Candidate("1.3.0-rc.1"), (), ("skip", "dev", "refuses")),
        (("1.2.0", "1.2.0", "1.2.0"), Candidate("1.1.0"), (), ("skip", "dev", "refuses 1.1.0")),
        ((None, None, None), Candidate("1.3.0"), (), ("need", "dev", "")),
        (("1.2.0", None, None), Candidate("1.2.0"), (), ("need", "staging", "")),
        ((None, None, None), Candidate("1.3.0"), ("dev",), ("need", "staging", "")),
        ((None, "1.2.0", None), Candidate("1.3.0"), ("dev",), ("target", "staging", "1.2.0")),
        (
            (None, None, "1.2.0"),
            Candidate("1.2.5", environment="prod"),
            (),
            ("target", "prod", "1.2.0"),
        ),
        (
            (None, None, None),
            Candidate("1.2.5", environment="qa"),
            (),
            ("skip", "qa", "does not use"),
        ),
        (
            ("1.2.0", "1.2.0", "1.2.0"),
            Candidate("1.3.0", environment="dev"),
            (),
            ("target", "dev", "1.2.0"),
        ),
    ],
)
def test_choose_target(
    config: PromotionConfig,
    tags: tuple[str | None, str | None, str | None],
    candidate: Candidate,
    reached: tuple[str, ...],
    expected: tuple[str, str | None, str],
) -> None:
    result = choose_target(config, "api", candidate, states(*tags), reached=frozenset(reached))
    kind, env, detail = expected
    if kind == "target":
        assert isinstance(result, Target)
        assert (result.environment, result.from_tag) == (env, detail)
    elif kind == "need":
        assert result == NeedState(env or "")
    else:
        assert isinstance(result, Skip), result
        assert result.environment == env and detail in result.reason


def test_choose_target_needs_an_image_reference(config: PromotionConfig) -> None:
    empty = {"dev": EnvState("dev", {"envs/dev/values.yaml": values("1.0.0", "ghcr.io/acme/web")})}
    result = choose_target(config, "api", Candidate("1.3.0"), empty)
    assert isinstance(result, Skip) and "no file of dev references" in result.reason


def test_app_starts_at_its_first_environment(config: PromotionConfig) -> None:
    web = {"staging": EnvState("staging", {"s.yaml": values("1.0.0", "ghcr.io/acme/web")})}
    result = choose_target(config, "web", Candidate("1.1.0"), web)
    assert isinstance(result, Target) and result.environment == "staging"


def plan(
    config: PromotionConfig,
    env: str,
    tag: str,
    history: PullHistory = NO_PULLS,
    *,
    current: str = "1.2.0",
    requested: bool = False,
    text: str | None = None,
) -> PromotionPlan | Skip:
    target = Target("api", env, current, "reason")
    files = {f"envs/{env}/values.yaml": text if text is not None else values(current)}
    return plan_promotion(
        config, target, Candidate(tag), EnvState(env, files), history, requested=requested
    )


def test_open_plan_has_everything_for_the_pr(config: PromotionConfig) -> None:
    result = plan(config, "dev", "1.3.0")
    assert isinstance(result, PromotionPlan)
    assert (result.action, result.branch) == ("open", "promotion/api/dev")
    assert result.edits == {"envs/dev/values.yaml": values("1.3.0")}
    assert result.title == "Promote api 1.3.0 to dev"
    assert result.commit_message.startswith("Promote api 1.3.0 to dev\n")
    assert result.promotion.change_kind == "minor" and result.pull_number is None
    meta = extract(result.body)
    assert meta is not None and (meta.version, meta.from_) == ("1.3.0", "1.2.0")


def test_update_plan_supersedes_the_open_version(config: PromotionConfig) -> None:
    history = PullHistory(OpenPull(4, "1.3.0", ("1.2.5",)), declined=("1.2.7",))
    result = plan(config, "dev", "1.3.1", history)
    assert isinstance(result, PromotionPlan)
    assert (result.action, result.pull_number) == ("update", 4)
    assert result.promotion.superseded == ("1.2.5", "1.3.0")
    meta = extract(result.body)
    assert meta is not None and meta.declined == ("1.2.7",)


@pytest.mark.parametrize(
    ("env", "tag", "history", "requested", "reason"),
    [
        (
            "dev",
            "1.3.0",
            PullHistory(OpenPull(4, "1.3.0")),
            False,
            "already proposed for dev in #4",
        ),
        ("dev", "1.3.0", PullHistory(OpenPull(4, "1.4.0")), False, "#4 already proposes 1.4.0"),
        ("dev", "1.3.0", PullHistory(declined=("1.3.0",)), False, "was declined for dev"),
        ("prod", "1.3.0", PullHistory(), False, "opens PRs on a /promote command only"),
    ],
)
def test_plan_skips(
    config: PromotionConfig,
    env: str,
    tag: str,
    history: PullHistory,
    requested: bool,
    reason: str,
) -> None:
    result = plan(config, env, tag, history, requested=requested)
    assert isinstance(result, Skip) and reason in result.reason


def test_a_command_lifts_manual_policy(config: PromotionConfig) -> None:
    result = plan(config, "prod", "1.3.0", requested=True)
    assert isinstance(result, PromotionPlan) and result.action == "open"


def test_pinned_digest_without_a_new_digest_is_refused(config: PromotionConfig) -> None:
    pinned = "image: ghcr.io/acme/api:1.2.0@sha256:" + "a" * 64 + "\n"
    result = plan(config, "dev", "1.3.0", text=pinned)
    assert isinstance(result, Skip) and "cannot set ghcr.io/acme/api to 1.3.0" in result.reason
