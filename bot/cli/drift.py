"""``promotion-bot drift PATH|OWNER/NAME``: the drift audit of an environment repository.

A directory is a local clone: ``.github/promotion.yml`` from its default branch and each
environment from its branch (``bot.adapters.local_git``), audited by the pure core. Otherwise
``OWNER/NAME`` is read through the API with ``bot.services.drift.audit_repository``: as the App
(``PROMOTION_BOT_APP_ID`` and its private key) or, without App credentials, with a plain token
(``GITHUB_TOKEN`` or ``GH_TOKEN``, as in GitHub Actions). The report prints as a table, JSON or
the issue's Markdown. Exit status: 0 in sync, 1 drift found (a CI job fails on it), 2 the
repository or its config cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.adapters.catalog import PolicyError, builtin_policies
from bot.adapters.github import GitHubGateway
from bot.adapters.github_token import (
    TOKEN_VARIABLES,
    TokenGateway,
    token_from_environment,
)
from bot.adapters.local_git import (
    LocalClone,
    LocalGitError,
    Progress,
    config_text,
    read_clone,
)
from bot.adapters.versions_memory import VersionsInMemory
from bot.core.config import DEFAULT_FILE, ConfigError, parse_config
from bot.core.config.model import REPO_PATTERN
from bot.core.drift.audit import audit
from bot.core.drift.export import report_json
from bot.core.drift.model import DriftReport
from bot.core.drift.report import render_issue
from bot.core.drift.text import render_text
from bot.services.drift import audit_repository
from bot.services.github_ports import GitHubError
from bot.services.ports import RetryLater
from bot.services.workspace import ConfigCache, Workspace
from bot.settings import Settings, SettingsError

DRIFT, USAGE = 1, 2
WEB_URL = "https://github.com"


def run_drift(args: argparse.Namespace) -> int:
    try:
        now = _now(args.now)
        if _is_remote(args.path):
            remote = _audit_remote(args.path, now=now, bot_login=args.bot_login)
            report, web_url = asyncio.run(remote)
        else:
            report, web_url = audit_clone(Path(args.path), now=now, progress=_progress(sys.stderr))
    except ConfigError as err:
        print(f"promotion-bot drift: invalid config path={args.path}", file=sys.stderr)
        for issue in err.errors:
            print(f"  {issue}", file=sys.stderr)
        return USAGE
    except (LocalGitError, PolicyError, SettingsError, GitHubError, RetryLater, ValueError) as err:
        print(f"promotion-bot drift: {err}", file=sys.stderr)
        return USAGE
    for where, why in report.skipped.items():
        print(f"promotion-bot drift: skipped {where}: {why}", file=sys.stderr)
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    elif args.markdown:
        print(render_issue(report, web_url=web_url))
    else:
        print(render_text(report))
    return DRIFT if report.count else 0


def audit_clone(
    root: Path, *, now: datetime, progress: Progress | None = None
) -> tuple[DriftReport, str]:
    """The drift report of the clone at ``root`` and the web URL of its host (GitHub unless
    ``origin`` names another); environments it does not hold are left out of the comparison
    and listed in ``skipped``."""
    clone = LocalClone(root)
    clone.check()
    default = clone.default_branch()
    text = config_text(clone, default[1])
    config = parse_config(text, file=DEFAULT_FILE, builtin=builtin_policies())
    origin = clone.origin()
    web_url, repo = origin or (None, root.resolve().name)
    read = read_clone(clone, config, repo=repo, default=default, web_url=web_url, progress=progress)
    report = audit(config, read.views, read.facts, repo=repo, now=now)
    return without(report, read.unread), web_url or WEB_URL


def _is_remote(target: str) -> bool:
    """``OWNER/NAME`` that is not a directory here: read through the API."""
    return not Path(target).is_dir() and re.fullmatch(REPO_PATTERN, target) is not None


async def _audit_remote(slug: str, *, now: datetime, bot_login: str) -> tuple[DriftReport, str]:
    """As the App when its credentials are set, else with a token from the environment."""
    settings = Settings()
    found = token_from_environment(os.environ)
    if settings.app_id is None and found is not None:
        variable, token = found
        async with TokenGateway.from_settings(settings, token, bot_login=bot_login) as tokens:
            report = await audit_with_token(tokens, slug, now=now, variable=variable)
            return report, tokens.web_url
    try:
        gateway = GitHubGateway.from_settings(settings)
    except SettingsError as err:
        why = f"{slug} is no directory here, so it is read through the API: {err} (or a token: "
        raise SettingsError(f"{why}{' or '.join(TOKEN_VARIABLES)})") from err
    async with gateway:
        return await audit_remote(gateway, slug, now=now), gateway.web_url


async def audit_remote(gateway: GitHubGateway, slug: str, *, now: datetime) -> DriftReport:
    """The drift report of ``slug`` through the API, from the App installation that reaches
    it; ``ValueError`` when none does or its config is missing or invalid."""
    configs = ConfigCache(builtin_policies())
    for installation in await gateway.installation_ids():
        ports = gateway.ports_for(installation)
        ws = Workspace(ports, configs, lambda: now, VersionsInMemory(), installation)
        repo = (await ws.repositories()).get(slug.lower())
        if repo is None:
            continue
        loaded = await ws.config_of(repo)
        if loaded is None:
            raise ValueError(f"no valid {DEFAULT_FILE} on the default branch repo={slug}")
        return await audit_repository(ws, loaded)
    raise ValueError(f"repository not reachable by any installation of the App repo={slug}")


async def audit_with_token(
    gateway: TokenGateway, slug: str, *, now: datetime, variable: str = TOKEN_VARIABLES[0]
) -> DriftReport:
    """The drift report of ``slug`` read with the gateway's token; ``ValueError`` when the
    token cannot read it or its config is missing or invalid. Environments in other
    repositories are read with the same token; one it cannot see stops the audit (``NotFound``),
    as one outside the App's installation does."""
    configs = ConfigCache(builtin_policies())
    ws = Workspace(gateway.ports(slug), configs, lambda: now, VersionsInMemory())
    repo = (await ws.repositories()).get(slug.lower())
    if repo is None:
        raise ValueError(f"repository not readable with the token in {variable} repo={slug}")
    loaded = await ws.config_of(repo)
    if loaded is None:
        raise ValueError(f"no valid {DEFAULT_FILE} on the default branch repo={slug}")
    others = tuple(env.repo for env in loaded.config.environments if env.repo)
    if others:
        ws = Workspace(gateway.ports(slug, *others), configs, lambda: now, VersionsInMemory())
    return await audit_repository(ws, loaded)


def without(report: DriftReport, unread: dict[str, str]) -> DriftReport:
    """``report`` with the environments not read left out: nothing compares with them (an
    environment not read is not an empty one), and each is listed in ``skipped``."""
    if not unread:
        return report
    pairs = tuple(
        pair
        for pair in report.pairs
        if pair.upstream not in unread and pair.environment not in unread
    )
    running = {
        app: {env: v for env, v in envs.items() if env not in unread}
        for app, envs in report.running.items()
    }
    names = tuple(name for name in report.environments if name not in unread)
    skipped = {f"{name}: (environment)": why for name, why in unread.items()}
    return replace(
        report,
        environments=names,
        pairs=pairs,
        running=running,
        skipped={**skipped, **report.skipped},
    )


def _now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"--now is not an ISO 8601 time now={text!r}") from err
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _progress(out: TextIO) -> Progress | None:
    """A ``\\r`` counter of files read, on a terminal only (never in a CI log or a pipe)."""
    if not out.isatty():
        return None
    step = 0

    def show(done: int, total: int) -> None:
        nonlocal step
        if done == total or done - step >= 200:
            step = done
            end = "\r\x1b[K" if done == total else ""
            out.write(f"\rreading files {done}/{total}{end}")
            out.flush()

    return show
