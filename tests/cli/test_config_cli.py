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


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="promotion-bot")
    config_cli.register(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def checkout(tmp_path):
    """An environment repository with the minimal config and both directories."""
    (tmp_path / ".github").mkdir()
    shutil.copy(VALID / "minimal.yml", tmp_path / ".github" / "promotion.yml")
    for env in ("dev", "prod"):
        (tmp_path / "envs" / env).mkdir(parents=True)
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
    ]
    assert err == ""


def test_config_file_path_is_accepted(checkout, capsys):
    assert run("check-config", str(checkout / ".github" / "promotion.yml")) == 0
    assert capsys.readouterr().out.startswith("OK: 2 environments, 1 apps\n")


def test_missing_environment_directory_is_a_warning(checkout, capsys):
    (checkout / "envs" / "prod").rmdir()
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
        "files, tag_pattern, image_tag, environments, policy",
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
    assert run("check-config", str(tmp_path)) == 0
    assert capsys.readouterr().out == shown[1]
