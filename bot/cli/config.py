"""``check-config`` (validate an environment repository's promotion.yml) and ``config-schema``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.adapters.catalog import ConfigFileError, builtin_policies, config_file, read_config
from bot.cli import parsers
from bot.core.config import (
    ConfigError,
    ConfigIssue,
    Document,
    Environment,
    PromotionConfig,
    compose_document,
    parse_config,
)
from bot.core.files.bounds import LINK_REASON, NOT_TEXT_REASON, size_refusal, yaml_refusal
from bot.core.promotion.coverage import (
    ReferenceCount,
    count_references,
    unmatched_globs,
    wanted_paths,
)
from bot.core.promotion.envfiles import EnvState, skipped_documents
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
    checkout = _checkout_root(root, file)
    document = compose_document(text, str(file))
    checked = _Checked.read(config, checkout)
    fatal = [*_missing_paths(config, document, checkout), *checked.empty(config, document)]
    warnings = [*checked.unmatched(config, document), *checked.left_alone()]
    if not args.strict:
        fatal, warnings = [], [*fatal, *warnings]
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if fatal:
        for issue in fatal:
            print(issue)
        return 1
    print(f"OK: {len(config.environments)} environments, {len(config.apps)} apps")
    for line in [*_summary(config), *checked.lines(config, checkout)]:
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
    config: PromotionConfig, document: Document, root: Path | None
) -> list[ConfigIssue]:
    """Directory environments of this checkout whose path does not exist in it."""
    if root is None:
        return []
    return [
        document.issue(
            ("environments", index, "path"),
            f"directory not found in checkout root={root} path={env.path}",
        )
        for index, env in enumerate(config.environments)
        # Environments on another branch or repository are not in this checkout.
        if env.path and env.repo is None and env.branch is None and not (root / env.path).exists()
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


@dataclass
class _Checked:
    """What the working tree holds for the directory environments of the default branch:
    every path under each (``paths``), the files apps read (``states``, under the read
    bounds), and where the others are (``elsewhere``: not checked locally)."""

    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    states: dict[str, EnvState] = field(default_factory=dict)
    elsewhere: dict[str, str] = field(default_factory=dict)
    counts: tuple[ReferenceCount, ...] = ()

    @classmethod
    def read(cls, config: PromotionConfig, root: Path | None) -> _Checked:
        checked = cls()
        if root is None:
            return checked
        for env in config.environments:
            if env.repo is not None or env.branch is not None:
                where = f"repository {env.repo}" if env.repo else f"branch {env.branch}"
                checked.elsewhere[env.name] = where
            elif (root / (env.path or ".")).exists():  # a directory, or one file
                paths = _tree_paths(root, env.path or ".")
                checked.paths[env.name] = paths
                wanted = wanted_paths(config, env.name, paths)
                checked.states[env.name] = _read_files(root, env.name, sorted(wanted))
        checked.counts = count_references(config, checked.states)
        return checked

    def empty(self, config: PromotionConfig, document: Document) -> list[ConfigIssue]:
        """An app with no reference to its image (or a file unread) in an environment."""
        issues = []
        for count in self.counts:
            env = config.environment(count.environment)
            where = f"environment={env.name} path={env.path or '.'}"
            if count.references is None:
                message = f"cannot look for the image {where}: {count.reason}"
            elif count.references == 0:  # what was left alone has its own line (``left_alone``)
                image = config.apps[count.app].image
                message = f"no reference to {image} in the working tree {where}"
            else:
                continue
            issues.append(document.issue(("apps", count.app, "image"), message))
        return issues

    def left_alone(self) -> list[str]:
        """The files, and documents of multi-document files (Helm templates), the bot would
        leave alone in each environment, with why: what it reads beside them still counts."""
        return [
            f"environment={name} left alone: {path} ({why})"
            for name, state in self.states.items()
            for path, why in sorted(state.skipped.items())
        ]

    def unmatched(self, config: PromotionConfig, document: Document) -> list[ConfigIssue]:
        """``files`` globs matching no file in any environment checked here."""
        return [
            document.issue(
                glob.loc,
                f"glob {glob.glob!r} matches no file in environments={','.join(glob.environments)}",
            )
            for glob in unmatched_globs(config, self.paths)
        ]

    def lines(self, config: PromotionConfig, root: Path | None) -> list[str]:
        """The summary's image references, per app and environment."""
        if root is None:
            return []
        lines = ["image references in the working tree:"]
        counted = {(count.app, count.environment): count for count in self.counts}
        for app in config.apps:
            for env in config.environments_of(app):
                count = counted.get((app, env.name))
                if count is not None:
                    found = "unreadable" if count.references is None else str(count.references)
                elif env.name in self.elsewhere:
                    found = f"not checked locally ({self.elsewhere[env.name]})"
                else:
                    found = "directory not found"
                lines.append(f"  {app} in {env.name}: {found}")
        return lines


def _tree_paths(root: Path, path: str) -> tuple[str, ...]:
    """Every file under ``root/path`` as a repository path (``.git`` and links to
    directories are not entered); a file ``path`` is itself."""
    if (root / path).is_file():
        return (path,)
    found = []
    for directory, dirs, files in os.walk(root / path):
        dirs[:] = [name for name in dirs if name != ".git"]
        found += [(Path(directory) / name).relative_to(root).as_posix() for name in files]
    return tuple(sorted(found))


def _read_files(root: Path, name: str, paths: list[str]) -> EnvState:
    """The files at ``paths`` under the bot's read bounds; the refused ones with why."""
    files: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for path in paths:
        why, text = _read_file(root / path)
        if text is None:
            skipped[path] = why or "unreadable"
        else:
            files[path] = text
    # As the bot reads them (``Workspace``): a document that does not parse, named beside files.
    return EnvState(name, files, skipped | skipped_documents(files))


def _read_file(file: Path) -> tuple[str | None, str | None]:
    """(why it is refused, None) or (None, its text)."""
    if file.is_symlink():
        return LINK_REASON, None
    try:
        why = size_refusal(file.stat().st_size)
        if why is not None:
            return why, None
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT_REASON, None
    except OSError as err:
        return f"cannot be read: {err.strerror}", None
    why = yaml_refusal(text, cpu_clock=time.thread_time)
    return (why, None) if why is not None else (None, text)
