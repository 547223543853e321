"""``check-config`` and ``config-schema``, run in-process against temporary checkouts."""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest

from bot.cli import config as config_cli
from bot.cli import main

VALID = Path(__file__).parent.parent / "data" / "config" / "valid"
API_VALUES = "image:\n  repository: ghcr.io/acme/api\n  tag: 1.4.2\n"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="promotion-bot")
    config_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def checkout(tmp_path):
    """An environment repository with the minimal config and both directories, each with a
    values file that runs the app."""
    (tmp_path / ".github").mkdir()
    shutil.copy(VALID / "minimal.yml", tmp_path / ".github" / "promotion.yml")
    for env in ("dev", "prod"):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "values.yaml").write_text(API_VALUES)
    return tmp_path


def test_valid_checkout_prints_ok_and_summary(checkout, capsys):
    assert run("check-config", str(checkout)) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "OK: 2 environments, 1 apps",
        "  environments: dev (envs/dev) -> prod (envs/prod)",
        "  api (ghcr.io/acme/api):",
        "    dev: auto: pr=auto",
        "    prod: auto: pr=auto, after=dev",
        "  image references in the working tree:",
        "    api in dev: 1",
        "    api in prod: 1",
    ]
    assert err == ""


def test_config_file_path_is_accepted(checkout, capsys):
    assert run("check-config", str(checkout / ".github" / "promotion.yml")) == 0
    assert capsys.readouterr().out.startswith("OK: 2 environments, 1 apps\n")


def test_missing_environment_directory_is_a_warning(checkout, capsys):
    shutil.rmtree(checkout / "envs" / "prod")
    assert run("check-config", str(checkout)) == 0
    out, err = capsys.readouterr()
    file = checkout / ".github" / "promotion.yml"
    assert err == (
        f"warning: {file}:6:11: environments.1.path: directory not found in checkout "
        f"root={checkout} path=envs/prod\n"
    )
    assert out.startswith("OK:")


def test_config_outside_a_checkout_skips_directory_checks(tmp_path, capsys):
    file = tmp_path / "promotion.yml"
    shutil.copy(VALID / "minimal.yml", file)
    assert run("check-config", str(file)) == 0
    assert capsys.readouterr().err == ""


def test_invalid_config_prints_located_errors_and_exits_1(checkout, capsys):
    file = checkout / ".github" / "promotion.yml"
    file.write_text(file.read_text().replace("name: prod", "name: prod env") + "    soak: 2h\n")
    assert run("check-config", str(checkout)) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{file}:5:11: environments.1.name: 'prod env' is not a name: letters, digits, "
        "'.', '_' or '-', at most 63 characters",
        f"{file}:10:5: apps.api.soak: unknown field; expected one of: name, image, source, "
        "files, tags, tag_pattern, image_tag, environments, policy",
    ]


@pytest.mark.parametrize("make", ["nothing", "directory", "binary"])
def test_missing_or_unreadable_file_exits_2(tmp_path, capsys, make):
    target = tmp_path
    if make == "directory":
        (tmp_path / ".github" / "promotion.yml").mkdir(parents=True)
    elif make == "binary":
        target = tmp_path / "promotion.yml"
        target.write_bytes(b"version: 1\n\xff\n")
    assert run("check-config", str(target)) == 2
    assert "promotion-bot check-config: cannot read config file" in capsys.readouterr().err


def test_yaml_extension_is_found(checkout, capsys):
    github = checkout / ".github"
    (github / "promotion.yml").rename(github / "promotion.yaml")
    assert run("check-config", str(checkout)) == 0


def test_config_schema_prints_a_schema_the_golden_configs_satisfy(capsys):
    assert run("config-schema") == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Promotion Bot configuration"


def test_registered_in_the_main_cli(checkout, capsys):
    assert main(["check-config", str(checkout)]) == 0
    assert capsys.readouterr().out.startswith("OK: 2 environments")


def test_policies_doc_shows_the_real_output(tmp_path, capsys):
    doc = (Path(__file__).parent.parent.parent / "docs" / "policies.md").read_text("utf-8")
    config = re.search(r"```yaml config\n(.*?)```", doc, re.DOTALL)
    shown = re.search(r"```\n(OK: .*?)```", doc, re.DOTALL)
    assert config and shown
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "promotion.yml").write_text(config[1], "utf-8")
    for env in ("dev", "staging", "prod"):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "values.yaml").write_text(API_VALUES)
    assert run("check-config", str(tmp_path)) == 0
    out, err = capsys.readouterr()
    # The doc shows the policies; the image references the checkout holds follow them.
    assert out == shown[1] + "".join(
        f"{line}\n"
        for line in [
            "  image references in the working tree:",
            "    api in dev: 1",
            "    api in staging: 1",
            "    api in prod: 1",
        ]
    )
    assert err == ""


TWO_ENVS = """\
version: 1
environments:
  - name: dev
    path: envs/dev
  - {prod}
{defaults}apps:
  api:
    image: ghcr.io/acme/api
    {app_files}
"""


def make_checkout(root: Path, files: dict[str, str], **config: str) -> Path:
    fields = {"prod": "name: prod\n    path: envs/prod", "defaults": "", "app_files": ""} | config
    (root / ".github").mkdir()
    (root / ".github" / "promotion.yml").write_text(TWO_ENVS.format(**fields))
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


DEV_ONLY = {"envs/dev/values.yaml": API_VALUES, "envs/prod/README.md": "prod\n"}
BOTH = {"envs/dev/values.yaml": API_VALUES, "envs/prod/values.yaml": API_VALUES}


@pytest.mark.parametrize(
    ("files", "config", "flags", "code", "counts", "warnings"),
    [
        pytest.param(
            DEV_ONLY,
            {},
            (),
            0,
            ["dev: 1", "prod: 0"],
            [
                "9:12: apps.api.image: no reference to ghcr.io/acme/api in the working tree "
                "environment=prod path=envs/prod"
            ],
            id="no-reference-warns",
        ),
        pytest.param(
            {"envs/dev/values.yaml": API_VALUES},
            {},
            (),
            0,
            ["dev: 1", "prod: directory not found"],
            ["6:11: environments.1.path: directory not found"],
            id="missing-directory-warns-once",
        ),
        pytest.param(
            {"envs/dev/values.yaml": API_VALUES},
            {"prod": "name: prod\n    branch: env/prod"},
            ("--strict",),
            0,
            ["dev: 1", "prod: not checked locally (branch env/prod)"],
            [],
            id="other-branch-is-a-note",
        ),
        pytest.param(
            {"envs/dev/values.yaml": API_VALUES},
            {"prod": "name: prod\n    repo: acme/prod-env\n    path: envs/prod"},
            ("--strict",),
            0,
            ["dev: 1", "prod: not checked locally (repository acme/prod-env)"],
            [],
            id="other-repository-is-a-note",
        ),
        pytest.param(
            BOTH,
            {"app_files": "files: [values.yaml, kustomization.yaml]"},
            (),
            0,
            ["dev: 1", "prod: 1"],
            [
                "10:26: apps.api.files.1: glob 'kustomization.yaml' matches no file in "
                "environments=dev,prod"
            ],
            id="app-glob-matching-nothing-warns",
        ),
        pytest.param(
            BOTH,
            {"defaults": "defaults:\n  files: ['*.yml']\n", "app_files": "files: ['*.yaml']"},
            ("--strict",),
            0,
            ["dev: 1", "prod: 1"],
            ["8:11: defaults.files.0: glob '*.yml' matches no file in environments=dev,prod"],
            id="defaults-glob-warns-even-strict",
        ),
        pytest.param(
            BOTH | {"envs/prod/values.yaml": "image: ghcr.io/acme/api:1\nx: [\n"},
            {},
            (),
            0,
            ["dev: 1", "prod: unreadable"],
            [
                "apps.api.image: cannot look for the image environment=prod path=envs/prod: "
                "parsing yaml failed"
            ],
            id="unparsable-file-warns",
        ),
        pytest.param(
            DEV_ONLY | {"envs/prod/values.yaml": "- " * 120 + "ghcr.io/acme/api:1\n"},
            {},
            (),
            0,
            ["dev: 1", "prod: 0"],
            [
                "no reference to ghcr.io/acme/api in the working tree environment=prod "
                "path=envs/prod",
                "environment=prod left alone: envs/prod/values.yaml (nested over 100 levels deep)",
            ],
            id="refused-file-is-named",
        ),
    ],
)
def test_image_references_per_app_and_environment(
    tmp_path, capsys, files, config, flags, code, counts, warnings
):
    checkout = make_checkout(tmp_path, files, **config)
    assert run("check-config", *flags, str(checkout)) == code
    out, err = capsys.readouterr()
    assert out.splitlines()[-len(counts) :] == [f"    api in {count}" for count in counts]
    assert out.splitlines()[-len(counts) - 1] == "  image references in the working tree:"
    assert len(err.splitlines()) == len(warnings)
    for line, expected in zip(err.splitlines(), warnings, strict=True):
        assert line.startswith("warning: ") and expected in line


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            DEV_ONLY,
            "9:12: apps.api.image: no reference to ghcr.io/acme/api in the working tree "
            "environment=prod path=envs/prod",
            id="no-reference",
        ),
        pytest.param(
            {"envs/dev/values.yaml": API_VALUES},
            "6:11: environments.1.path: directory not found in checkout",
            id="missing-directory",
        ),
    ],
)
def test_strict_makes_a_config_that_cannot_work_an_error(tmp_path, capsys, files, expected):
    checkout = make_checkout(tmp_path, files)
    assert run("check-config", "--strict", str(checkout)) == 1
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert line.startswith(str(checkout / ".github" / "promotion.yml")) and expected in line
    assert err == ""


def test_an_environment_at_the_root_leaves_github_and_git_out(tmp_path, capsys):
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "promotion.yml").write_text(
        "version: 1\nenvironments:\n  - name: prod\napps:\n  api:\n    image: ghcr.io/acme/api\n"
    )
    for hidden in (".github/ci.yaml", ".git/x.yaml"):
        (tmp_path / hidden).parent.mkdir(exist_ok=True)
        (tmp_path / hidden).write_text(API_VALUES)
    (tmp_path / "app.yaml").write_text(API_VALUES)
    assert run("check-config", str(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "    api in prod: 1"


TEMPLATED = (
    "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
    "      - name: api\n        image: ghcr.io/acme/api:1.4.2\n"
    "---\n{{- if .Values.ingress.enabled }}\nkind: Ingress\n{{- end }}\n"
)


@pytest.mark.parametrize("flags", [(), ("--strict",)])
def test_what_the_bot_leaves_alone_is_named(tmp_path, capsys, flags):
    """A Helm template document beside a Deployment: the image still counts, and the document
    left alone is named, as the bot names it in its PRs."""
    files = {"envs/dev/deploy.yaml": TEMPLATED, "envs/prod/values.yaml": API_VALUES}
    assert run("check-config", *flags, str(make_checkout(tmp_path, files))) == 0
    out, err = capsys.readouterr()
    assert "api in dev: 1" in out
    assert err.splitlines() == [
        "warning: environment=dev left alone: envs/dev/deploy.yaml document 2 (line 8) (a Helm "
        "template that does not parse as YAML: did not find expected node content line=9 "
        "column=3)"
    ]
