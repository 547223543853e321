"""parse_config: invalid files -> located issues; policy resolution; YAML guards."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.config import (
    ConfigError,
    ConfigIssue,
    Policy,
    PromotionConfig,
    parse_config,
    parse_policy,
    resolve_config,
)
from bot.core.config.load import MAX_BYTES, MAX_NODES

BUILTIN = {
    "auto": Policy(),
    "manual": Policy(auto=False),
    "minor": Policy(level="minor"),
    "prod-safe": Policy(level="minor", auto=False, soak=timedelta(hours=24)),
}

HEAD = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - name: prod
    path: envs/prod
apps:
  api:
    image: ghcr.io/acme/api
"""


def app_policy(env: str, body: str) -> str:
    """HEAD plus ``policy: {env: <body>}`` for app api, body starting on line 12."""
    return HEAD + f"    policy:\n      {env}:\n" + textwrap.indent(textwrap.dedent(body), " " * 8)


def parse(text: str) -> PromotionConfig:
    return parse_config(text, file="promotion.yml", builtin=BUILTIN)


def issues(text: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value.errors


INVALID = sorted((Path(__file__).parent.parent / "data" / "config" / "invalid").glob("*.yml"))


@pytest.mark.parametrize("case", INVALID, ids=[case.stem for case in INVALID])
def test_invalid_config_golden(case):
    """Each invalid file gives exactly the issues in its ``.expected`` twin, in file order."""
    with pytest.raises(ConfigError) as info:
        parse(case.read_text("utf-8"))
    assert str(info.value) + "\n" == case.with_suffix(".expected").read_text("utf-8")


def test_error_lists_every_issue_one_per_line():
    text = HEAD.replace("name: dev", "name: dev env") + "    imag: x\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).splitlines() == [
        "promotion.yml:3:11: environments.0.name: 'dev env' is not a name: letters, digits, "
        "'.', '_' or '-', at most 63 characters",
        "promotion.yml:10:5: apps.api.imag: unknown field; did you mean 'image'?",
    ]


GUARDS = [
    ("empty", "", "the file is empty"),
    ("comment only", "# nothing\n", "the file is empty"),
    ("list root", "- version: 1\n", "must be a mapping"),
    ("scalar root", "promotion\n", "must be a mapping"),
    ("syntax", "version: 1\nenvironments: [dev\n", "invalid YAML"),
    ("two documents", "version: 1\n---\nversion: 1\n", "invalid YAML"),
    ("too large", "#" * (MAX_BYTES + 1), "file too large"),
    ("tabs", "version: 1\n\tenvironments: []\n", "invalid YAML"),
]


@pytest.mark.parametrize(("text", "fragment"), [g[1:] for g in GUARDS], ids=[g[0] for g in GUARDS])
def test_unreadable_documents_are_refused_with_a_message(text, fragment):
    found = issues(text)
    assert len(found) == 1
    assert fragment in found[0].message


def test_syntax_error_points_at_its_line():
    (issue,) = issues("version: 1\nenvironments:\n  - name: dev\n   path: x\n")
    assert issue.line == 4
    assert str(issue).startswith(
        "promotion.yml:4:4: (document): invalid YAML: expected <block end>"
    )


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_building_objects():
    (issue,) = issues(billion_laughs(6))
    assert f"more than {MAX_NODES} nodes" in issue.message


def test_many_aliases_are_refused():
    text = "version: 1\nx-base: &b 1\nx-list: [" + ", ".join(["*b"] * 300) + "]\n"
    (issue,) = issues(text)
    assert "too many YAML aliases" in issue.message


def test_recursive_alias_is_refused():
    (issue,) = issues("version: 1\nx-loop: &loop [*loop]\n")
    assert "recursive" in issue.message


def test_deep_nesting_is_refused():
    (issue,) = issues("version: 1\nx-deep: " + "[" * 3_000 + "]" * 3_000 + "\n")
    assert "nested too deeply" in issue.message


def test_anchors_merge_keys_and_x_keys_are_read():
    text = HEAD + textwrap.dedent(
        """\
        x-weekend: &weekend
          - days: [sat, sun]
        policies:
          base: &base {level: minor, freeze: *weekend}
          slow:
            <<: *base
            soak: 1d
        defaults:
          policy: slow
        """
    )
    policy = parse(text).policy_for("api", "prod")
    assert (policy.level, policy.soak, len(policy.freeze)) == ("minor", timedelta(days=1), 1)


def test_unquoted_clock_times_stay_times():
    text = app_policy("prod", "freeze:\n  - days: [fri]\n    from: 16:00\n    to: 7:30\n")
    (window,) = parse(text).policy_for("api", "prod").freeze
    assert (window.start.isoformat(), window.end.isoformat()) == ("16:00:00", "07:30:00")


def test_numbers_and_booleans_still_resolve():
    text = app_policy("prod", "auto: no\nautomerge: yes\n")
    policy = parse(text).policy_for("api", "prod")
    assert (policy.auto, policy.automerge) == (False, True)
    assert issues(HEAD.replace("version: 1", 'version: "1"'))[0].field == "version"


RESOLUTION = [
    ("default is auto", "", "dev", {"use": "auto", "auto": True, "after": None}),
    ("after defaults to previous", "", "prod", {"use": "auto", "after": "dev"}),
    (
        "name replaces",
        "    policy:\n      prod: prod-safe\n",
        "prod",
        {"use": "prod-safe", "auto": False, "soak": timedelta(hours=24)},
    ),
    (
        "use then override",
        "    policy:\n      prod: {use: prod-safe, soak: 2h}\n",
        "prod",
        {"use": "prod-safe", "level": "minor", "soak": timedelta(hours=2)},
    ),
    (
        "inline layers on defaults",
        "    policy:\n      prod: {automerge: true}\n",
        "prod",
        {"use": "auto", "auto": True, "automerge": True},
    ),
    (
        "explicit after kept",
        "    policy:\n      prod: {after: dev, soak: 1h}\n",
        "prod",
        {"after": "dev", "soak": timedelta(hours=1)},
    ),
]


@pytest.mark.parametrize(
    ("app_lines", "env", "expected"), [r[1:] for r in RESOLUTION], ids=[r[0] for r in RESOLUTION]
)
def test_effective_policy(app_lines, env, expected):
    policy = parse(HEAD + app_lines).policy_for("api", env)
    assert {key: getattr(policy, key) for key in expected} == expected


def test_levels_defaults_then_environment_then_app():
    text = HEAD.replace("path: envs/prod", "path: envs/prod\n    policy: {use: manual, soak: 1h}")
    text += "    policy:\n      prod: {approvers: ['@acme/sre']}\ndefaults:\n  policy: minor\n"
    policy = parse(text).policy_for("api", "prod")
    assert policy.use == "manual"
    assert (policy.auto, policy.soak, policy.approvers) == (
        False,
        timedelta(hours=1),
        ("acme/sre",),
    )
    assert policy.level is None  # `use: manual` starts from manual, not from defaults' minor


def test_user_policy_shadows_builtin_and_may_use_it():
    text = (
        HEAD
        + "policies:\n  manual: {use: manual, approvers: [alice]}\ndefaults:\n  policy: manual\n"
    )
    policy = parse(text).policy_for("api", "dev")
    assert (policy.auto, policy.approvers) == (False, ("alice",))


def test_app_environment_subset_sets_after_within_the_subset():
    text = HEAD.replace(
        "  - name: prod", "  - name: staging\n    path: envs/staging\n  - name: prod"
    )
    config = parse(text + "    environments: [dev, prod]\n")
    assert [env.name for env in config.environments_of("api")] == ["dev", "prod"]
    assert config.policy_for("api", "prod").after == "dev"
    with pytest.raises(KeyError):
        config.policy_for("api", "staging")


def test_resolve_config_for_models_built_in_code():
    config = PromotionConfig.model_validate(
        {"version": 1, "environments": [{"name": "dev"}], "apps": {"api": {"image": "nginx"}}}
    )
    with pytest.raises(KeyError, match="parse_config or resolve_config"):
        config.policy_for("api", "dev")
    assert resolve_config(config, BUILTIN).policy_for("api", "dev").use == "auto"
    with pytest.raises(ValueError, match=r"defaults\.policy: unknown policy 'auto'"):
        resolve_config(config, {})


GIT_TAGS = [
    ({}, "v1.2.3", ("1.2.3", None)),
    ({}, "1.2.3", ("1.2.3", None)),
    ({"tag_pattern": "release-(?P<version>.+)"}, "v1.2.3", None),
    (
        {"tag_pattern": "(?P<environment>dev|prod)-v(?P<version>.+)"},
        "prod-v1.2.3",
        ("1.2.3", "prod"),
    ),
    (
        {"tag_pattern": "(?P<environment>dev|prod)-v(?P<version>.+)", "image_tag": "v{version}"},
        "dev-v2.0.0",
        ("v2.0.0", "dev"),
    ),
]


@pytest.mark.parametrize(("fields", "git_tag", "expected"), GIT_TAGS)
def test_git_tag_to_image_tag(fields, git_tag, expected):
    config = PromotionConfig.model_validate(
        {
            "version": 1,
            "environments": [{"name": "dev"}],
            "apps": {"api": {"image": "nginx", **fields}},
        }
    )
    match = config.apps["api"].match_git_tag(git_tag)
    assert (None if match is None else (match.image_tag, match.environment)) == expected


def test_policy_file_applies_use():
    policy = parse_policy("use: prod-safe\nsoak: 48h\n", file="p.yml", builtin=BUILTIN)
    assert (policy.use, policy.level, policy.soak) == ("prod-safe", "minor", timedelta(hours=48))
    with pytest.raises(ConfigError, match=r"p.yml:1:6: use: unknown policy 'nope'"):
        parse_policy("use: nope\n", file="p.yml", builtin=BUILTIN)


def test_drift_section_declares_intended_differences_and_a_schedule():
    config = parse(
        HEAD
        + """\
drift:
  schedule: "0 6 * * 1-5"
  ignore:
    - files: "values.yaml"
      paths: [replicas, "resources"]
      environments: [prod]
"""
    )
    (rule,) = config.drift.ignore
    assert (rule.files, rule.paths, rule.environments) == (
        "values.yaml",
        ("replicas", "resources"),
        ("prod",),
    )
    assert config.drift.schedule == "0 6 * * 1-5" and config.drift.report
    assert parse(HEAD).drift.schedule is None


def test_a_schedule_that_is_no_cron_expression_is_refused_at_its_line():
    (issue,) = issues(HEAD + "drift:\n  schedule: '61 * * * *'\n")
    assert (issue.line, issue.field) == (11, "drift.schedule")
    assert "not a cron expression" in issue.message
