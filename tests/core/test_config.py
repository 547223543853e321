"""parse_config: invalid files -> located issues; policy resolution; YAML guards."""

from __future__ import annotations

import textwrap
from datetime import timedelta

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
from bot.core.configload import MAX_BYTES, MAX_NODES

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


# (case, text, line, field, message fragment)
INVALID = [
    (
        "typo top-level",
        HEAD.replace("environments:", "enviroments:"),
        2,
        "enviroments",
        "did you mean 'environments'",
    ),
    ("no version", HEAD.replace("version: 1\n", "labels: []\n"), 1, "version", "required"),
    ("version 2", HEAD.replace("version: 1", "version: 2"), 1, "version", "1"),
    ("no environments", "version: 1\nenvironments: []\n", 2, "environments", "at least 1"),
    ("env name", HEAD.replace("name: dev", "name: dev env"), 3, "environments.0.name", "pattern"),
    (
        "env name twice",
        HEAD.replace("name: prod", "name: dev"),
        5,
        "environments.1.name",
        "duplicate name dev",
    ),
    (
        "env same place",
        HEAD.replace("envs/prod", "envs/dev/"),
        5,
        "environments.1",
        "same repo, branch and path",
    ),
    ("env path up", HEAD.replace("envs/dev", "../dev"), 4, "environments.0.path", "relative"),
    (
        "env path absolute",
        HEAD.replace("envs/dev", "/envs/dev"),
        4,
        "environments.0.path",
        "relative",
    ),
    ("env repo", HEAD.replace("path: envs/dev", "repo: acme"), 4, "environments.0.repo", "pattern"),
    (
        "env branch",
        HEAD.replace("path: envs/dev", "branch: env..dev"),
        4,
        "environments.0.branch",
        "invalid branch",
    ),
    (
        "env policy unknown",
        HEAD.replace("path: envs/prod", "path: envs/prod\n    policy: safe"),
        7,
        "environments.1.policy",
        "unknown policy 'safe'",
    ),
    (
        "env unknown field",
        HEAD.replace("path: envs/dev", "paht: envs/dev"),
        4,
        "environments.0.paht",
        "did you mean 'path'",
    ),
    (
        "image tag",
        HEAD.replace("ghcr.io/acme/api", "ghcr.io/acme/api:1.2"),
        9,
        "apps.api.image",
        "without tag",
    ),
    (
        "image invalid",
        HEAD.replace("ghcr.io/acme/api", "ghcr.io/Acme/API"),
        9,
        "apps.api.image",
        "invalid repository path",
    ),
    (
        "image missing",
        HEAD.replace("    image: ghcr.io/acme/api\n", "    source: acme/api\n"),
        8,
        "apps.api.image",
        "required",
    ),
    ("app name differs", HEAD + "    name: web\n", 10, "apps.api.name", "differs from its key api"),
    ("app source", HEAD + "    source: api\n", 10, "apps.api.source", "pattern"),
    (
        "app env unknown",
        HEAD + "    environments: [dev, qa]\n",
        10,
        "apps.api.environments.1",
        "unknown environment qa",
    ),
    (
        "app env twice",
        HEAD + "    environments: [dev, dev]\n",
        10,
        "apps.api.environments.1",
        "listed twice",
    ),
    (
        "tag_pattern group",
        HEAD + '    tag_pattern: "v(.+)"\n',
        10,
        "apps.api.tag_pattern",
        "named group 'version'",
    ),
    (
        "tag_pattern regex",
        HEAD + '    tag_pattern: "v(?P<version>.+"\n',
        10,
        "apps.api.tag_pattern",
        "invalid regular expression",
    ),
    ("image_tag field", HEAD + '    image_tag: "{tag}"\n', 10, "apps.api.image_tag", "{version}"),
    (
        "policy env unknown",
        app_policy("qa", "{}"),
        11,
        "apps.api.policy.qa",
        "unknown environment qa",
    ),
    (
        "policy env not run",
        HEAD + "    environments: [prod]\n    policy:\n      dev: minor\n",
        12,
        "apps.api.policy.dev",
        "does not run in dev",
    ),
    (
        "use unknown",
        app_policy("prod", "use: careful\n"),
        12,
        "apps.api.policy.prod.use",
        "unknown policy 'careful'",
    ),
    (
        "name unknown",
        HEAD + "    policy:\n      prod: careful\n",
        11,
        "apps.api.policy.prod",
        "known: auto, manual, minor, prod-safe",
    ),
    (
        "soak unit",
        app_policy("prod", "soak: 3x\n"),
        12,
        "apps.api.policy.prod.soak",
        "invalid duration '3x'",
    ),
    (
        "soak number",
        app_policy("prod", "soak: 30\n"),
        12,
        "apps.api.policy.prod.soak",
        "duration string",
    ),
    (
        "after unknown",
        app_policy("prod", "after: qa\n"),
        12,
        "apps.api.policy.prod.after",
        "unknown environment qa",
    ),
    (
        "after later",
        app_policy("dev", "after: prod\n"),
        12,
        "apps.api.policy.dev.after",
        "before dev",
    ),
    (
        "after itself",
        app_policy("prod", "after: prod\n"),
        12,
        "apps.api.policy.prod.after",
        "before prod",
    ),
    (
        "constraint",
        app_policy("prod", 'constraint: ">= banana"\n'),
        12,
        "apps.api.policy.prod.constraint",
        "banana",
    ),
    (
        "pattern",
        app_policy("prod", 'pattern: "^(main-"\n'),
        12,
        "apps.api.policy.prod.pattern",
        "invalid regular expression",
    ),
    (
        "exclude",
        app_policy("prod", 'exclude: ["[sig"]\n'),
        12,
        "apps.api.policy.prod.exclude",
        "invalid regular expression",
    ),
    (
        "match kind",
        app_policy("prod", 'match: "v1.*"\n'),
        12,
        "apps.api.policy.prod.match",
        "glob:",
    ),
    (
        "match regexp",
        app_policy("prod", 'match: "regexp:(v1"\n'),
        12,
        "apps.api.policy.prod.match",
        "invalid regular expression",
    ),
    (
        "level",
        app_policy("prod", "level: huge\n"),
        12,
        "apps.api.policy.prod.level",
        "'major', 'minor' or 'patch'",
    ),
    ("scheme", app_policy("prod", "scheme: calver\n"), 12, "apps.api.policy.prod.scheme", "semver"),
    (
        "policy typo",
        app_policy("prod", "automerg: true\n"),
        12,
        "apps.api.policy.prod.automerg",
        "did you mean 'automerge'",
    ),
    (
        "approver",
        app_policy("prod", 'approvers: ["bad user"]\n'),
        12,
        "apps.api.policy.prod.approvers.0",
        "pattern",
    ),
    (
        "freeze day",
        app_policy("prod", "freeze:\n  - days: [friday]\n"),
        13,
        "apps.api.policy.prod.freeze.0.days.0",
        "'fri'",
    ),
    (
        "freeze zone",
        app_policy("prod", "freeze:\n  - days: [fri]\n    timezone: Mars/Olympus\n"),
        14,
        "apps.api.policy.prod.freeze.0.timezone",
        "unknown time zone",
    ),
    (
        "freeze clock",
        app_policy("prod", "freeze:\n  - days: [fri]\n    from: '25:00'\n"),
        14,
        "apps.api.policy.prod.freeze.0.from",
        "HH:MM",
    ),
    (
        "freeze naive",
        app_policy(
            "prod", "freeze:\n  - from: 2026-12-24T00:00:00\n    to: 2026-12-27T00:00:00Z\n"
        ),
        13,
        "apps.api.policy.prod.freeze.0.from",
        "timezone",
    ),
    (
        "freeze reversed",
        app_policy(
            "prod", "freeze:\n  - from: 2026-12-27T00:00:00Z\n    to: 2026-12-24T00:00:00Z\n"
        ),
        13,
        "apps.api.policy.prod.freeze.0",
        "'to' must be after 'from'",
    ),
    (
        "freeze missing to",
        app_policy("prod", "freeze:\n  - from: 2026-12-27T00:00:00Z\n"),
        13,
        "apps.api.policy.prod.freeze.0.to",
        "required",
    ),
    (
        "named cycle",
        HEAD + "policies:\n  a: {use: b}\n  b: {use: a}\n",
        11,
        "policies.a.use",
        "policy cycle: a -> b -> a",
    ),
    (
        "named after",
        HEAD + "policies:\n  a: {after: qa}\n",
        11,
        "policies.a.after",
        "unknown environment qa",
    ),
    (
        "defaults policy",
        HEAD + "defaults:\n  policy: careful\n",
        11,
        "defaults.policy",
        "unknown policy 'careful'",
    ),
    (
        "defaults use",
        HEAD + "defaults:\n  policy: {use: careful}\n",
        11,
        "defaults.policy.use",
        "unknown policy",
    ),
    (
        "duplicate key",
        HEAD + "    image: ghcr.io/acme/other\n",
        10,
        "apps.api.image",
        "duplicate key 'image'",
    ),
    ("labels", HEAD + "labels: promotion\n", 10, "labels", "valid"),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_config_names_file_line_and_field(text, line, field, fragment):
    found = issues(text)
    assert any(
        (issue.file, issue.line, issue.field) == ("promotion.yml", line, field)
        and fragment in issue.message
        for issue in found
    ), found


def test_error_lists_every_issue_one_per_line():
    text = HEAD.replace("name: dev", "name: dev env") + "    imag: x\n"
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).splitlines() == [
        "promotion.yml:3:11: environments.0.name: String should match pattern "
        "'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'",
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
    assert str(issue).startswith("promotion.yml:4:1: (document): invalid YAML")


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
    with pytest.raises(ValueError, match="defaults.policy: unknown policy 'auto'"):
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
