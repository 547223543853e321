"""``check-config`` (validate an environment repository's promotion.yml) and ``config-schema``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.adapters.catalog import ConfigFileError, builtin_policies, config_file, read_config
from bot.cli import parsers
from bot.core.config import (
    ConfigError,
    ConfigIssue,
    Environment,
    PromotionConfig,
    compose_document,
    parse_config,
)
from bot.schema import config_schema

__all__ = ["register", "run_check_config", "run_config_schema"]  # run through bot.cli.commands.RUNS


def register(subparsers: Any) -> None:
    """``check-config`` and ``config-schema`` on a parser of one's own, run by this module."""
    declared = parsers.config(subparsers)
    declared["check-config"].set_defaults(func=run_check_config)
    declared["config-schema"].set_defaults(func=run_config_schema)


def run_check_config(args: argparse.Namespace) -> int:
    root = Path(args.path)
    file = config_file(root)
    if file.is_dir():
        why = "is a directory; a file is needed here"
        print(
            f"promotion-bot check-config: cannot read config file path={file}: {why}",
            file=sys.stderr,
        )
        return 2
    try:
        text = read_config(file)
    except ConfigFileError as err:
        print(f"promotion-bot check-config: {err}", file=sys.stderr)
        return 2
    try:
        config = parse_config(text, file=str(file), builtin=builtin_policies())
    except ConfigError as err:
        for issue in err.errors:
            print(issue)
        return 1
    for warning in _missing_paths(config, text, file, _checkout_root(root, file)):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"OK: {len(config.environments)} environments, {len(config.apps)} apps")
    for line in _summary(config):
        print(f"  {line}")
    return 0


def run_config_schema(args: argparse.Namespace) -> int:
    print(json.dumps(config_schema(), indent=2))
    return 0


def _checkout_root(path: Path, file: Path) -> Path | None:
    """The checkout a config belongs to: the directory given, or the parent of ``.github``."""
    if path.is_dir():
        return path
    return file.parent.parent if file.parent.name == ".github" else None


def _missing_paths(
    config: PromotionConfig, text: str, file: Path, root: Path | None
) -> list[ConfigIssue]:
    """Directory environments of this checkout whose path does not exist in it."""
    if root is None:
        return []
    document = compose_document(text, str(file))
    return [
        document.issue(
            ("environments", index, "path"),
            f"directory not found in checkout root={root} path={env.path}",
        )
        for index, env in enumerate(config.environments)
        # Environments on another branch or repository are not in this checkout.
        if env.path and env.repo is None and env.branch is None and not (root / env.path).is_dir()
    ]


def _summary(config: PromotionConfig) -> list[str]:
    lines = ["environments: " + " -> ".join(_where(env) for env in config.environments)]
    for name, app in config.apps.items():
        lines.append(f"{name} ({app.image}):")
        lines.extend(
            f"  {env.name}: {config.policy_for(name, env.name).summary()}"
            for env in config.environments_of(name)
        )
    return lines


def _where(env: Environment) -> str:
    place = ":".join(part for part in (env.repo, env.branch, env.path) if part)
    return f"{env.name} ({place})" if place else env.name
