"""``db upgrade``: bring the PostgreSQL queue's database at ``PROMOTION_BOT_DATABASE_URL`` to
this bot's schema (procrastinate's tables, then the bot's), with Alembic."""

from __future__ import annotations

import argparse
import sys

from bot.adapters.postgres_schema import PROCRASTINATE_VERSION, redact, upgrade
from bot.settings import ENV_PREFIX, SchemaError, Settings

__all__ = ["run_upgrade"]  # run through bot.cli.commands.RUNS


def run_upgrade(args: argparse.Namespace) -> int:
    """Upgrade; say which revision the database was at and is at now."""
    secret = Settings().database_url
    if secret is None:
        print(
            f"promotion-bot db upgrade: {ENV_PREFIX}DATABASE_URL is not set (postgresql://...)",
            file=sys.stderr,
        )
        return 2
    url = secret.get_secret_value()
    try:
        before, after = upgrade(url)
    except SchemaError as err:
        print(f"promotion-bot db upgrade: {err}", file=sys.stderr)
        return 1
    where = redact(url)
    if before == after:
        print(f"database {where}: already at revision {after}")
    else:
        print(
            f"database {where}: revision {before or 'none'} -> {after} "
            f"(procrastinate {PROCRASTINATE_VERSION} schema and the bot's tables)"
        )
    return 0
