"""``promotion-bot serve`` (the whole bot in one process), ``promotion-bot worker`` (the queue's
work without the intake, PostgreSQL only) and ``promotion-bot replay``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot.adapters.github import GitHubGateway
from bot.adapters.versions_memory import VersionsInMemory
from bot.bootstrap import build_router, run_bot, utc_now
from bot.cli import parsers
from bot.cli.inputs import InputError, read_bytes
from bot.core.inputs.events import BaseEvent
from bot.entrypoints.routing import EventContext, events_of_delivery
from bot.entrypoints.setup import run_setup, settings_for_setup
from bot.logs import configure_logging
from bot.services.ports import Delivery, JobRejected
from bot.settings import Settings, SettingsError, get_settings

__all__ = ["register", "run_replay", "run_serve", "run_worker"]  # run through bot.cli.commands.RUNS


def register(subparsers: Any) -> None:
    """``serve`` and ``replay`` on a parser of one's own, run by this module."""
    declared = parsers.serve(subparsers)
    declared["serve"].set_defaults(func=run_serve)
    declared["worker"].set_defaults(func=run_worker)
    declared["replay"].set_defaults(func=run_replay)


def run_serve(args: argparse.Namespace) -> int:
    try:
        settings = get_settings()
    except SettingsError as err:
        bare = settings_for_setup()
        if bare is None:
            print(f"promotion-bot serve: {err}", file=sys.stderr)
            return 2
        configure_logging(bare.log_level)
        return run_setup(bare, args.host, args.port)
    return _run(settings, args, "serve", intake=True)


def run_worker(args: argparse.Namespace) -> int:
    try:
        settings = get_settings()
    except SettingsError as err:
        print(f"promotion-bot worker: {err}", file=sys.stderr)
        return 2
    if settings.database_url is None:
        print(
            "promotion-bot worker: needs PROMOTION_BOT_DATABASE_URL (a PostgreSQL queue); "
            "a SQLite queue has one process, promotion-bot serve",
            file=sys.stderr,
        )
        return 2
    return _run(settings, args, "worker", intake=False)


def _run(settings: Settings, args: argparse.Namespace, name: str, *, intake: bool) -> int:
    configure_logging(settings.log_level)
    try:
        asyncio.run(run_bot(settings, host=args.host, port=args.port, intake=intake))
    except SettingsError as err:  # a PostgreSQL queue's ``SchemaError`` among them
        print(f"promotion-bot {name}: {err}", file=sys.stderr)
        return 2
    return 0


def run_replay(args: argparse.Namespace) -> int:
    try:
        body = read_bytes(args.file)
    except InputError as err:
        print(f"promotion-bot replay: cannot read file={args.file}: {err}", file=sys.stderr)
        return 2
    delivery = Delivery(
        delivery_id=f"replay-{args.file.name}",
        source="github",
        event=args.event,
        body=body,
        received_at=datetime.now(UTC),
    )
    try:
        events = events_of_delivery(delivery)
    except JobRejected as err:
        print(f"promotion-bot replay: {err}", file=sys.stderr)
        return 1
    if not events:
        print(f"no events: event={args.event} is ignored")
        return 0
    settings = None if args.dry_run else _credentials()
    if settings is None:
        why = "--dry-run" if args.dry_run else "no GitHub App credentials configured"
        print(f"dry run ({why}): printing the events, calling no use case", file=sys.stderr)
        for event in events:
            print(_describe(event))
        return 0
    configure_logging(settings.log_level)
    return asyncio.run(_dispatch(settings, events))


def _credentials() -> Settings | None:
    try:
        return get_settings()
    except SettingsError:
        return None


async def _dispatch(settings: Settings, events: tuple[BaseEvent, ...]) -> int:
    """Each event through the real router and GitHub; 1 when a use case failed. Versions
    seen are remembered as the queue would: from each event, before it runs."""
    versions = VersionsInMemory()
    async with GitHubGateway.from_settings(settings) as gateway:
        router, _ = build_router(gateway.ports_for, utc_now, versions, gateway.installation_ids)
        code = 0
        for index, event in enumerate(events):
            print(_describe(event))
            if event.version_seen is not None:
                versions.record(event.version_seen)
            try:
                await router.dispatch(event, EventContext(job_id=index, attempt=1, merged=1))
            except Exception as err:
                print(
                    f"promotion-bot replay: event={type(event).__name__} failed: "
                    f"{type(err).__name__}: {err}",
                    file=sys.stderr,
                )
                code = 1
        return code


def _describe(event: BaseEvent) -> str:
    return json.dumps(
        {
            "event": type(event).__name__,
            "dedupe_key": event.dedupe_key,
            "coalesce_key": event.coalesce_key,
            "serial_key": event.serial_key,
            **event.model_dump(mode="json", exclude={"kind"}),
        }
    )
