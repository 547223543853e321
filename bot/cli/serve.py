"""``promotion-bot serve`` (web app and worker in one process) and ``promotion-bot replay``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from bot.adapters.queue_sqlite import SqliteJobQueue
from bot.adapters.worker import RetryPolicy, Worker
from bot.core.events import BaseEvent
from bot.entrypoints.routing import EventContext, JobProcessor, Router, events_of_delivery
from bot.entrypoints.web import create_app
from bot.services.ports import Delivery, JobRejected
from bot.settings import SettingsError, get_settings

# Fields a log record may carry through ``extra=``; anything else stays out of the JSON line.
LOG_FIELDS = ("delivery_id", "event", "installation_id", "repo", "job_id")
# Kept at least as long as GitHub's redelivery window (7 days on GHES) so redeliveries dedupe.
RETENTION = timedelta(days=14)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and the known context fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line |= {k: v for k in LOG_FIELDS if (v := getattr(record, k, None)) is not None}
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str = "INFO") -> None:
    """The process's one logging setup: JSON lines on stderr, uvicorn's loggers included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="Run the webhook server and the worker.")
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    serve.add_argument("--port", type=int, default=8000, help="Port to listen on.")
    serve.set_defaults(func=run_serve)
    replay = subparsers.add_parser(
        "replay", help="Translate a saved delivery and show the events it dispatches."
    )
    replay.add_argument("event", help="The X-GitHub-Event name, e.g. pull_request.")
    replay.add_argument("file", type=Path, help="The saved JSON payload.")
    replay.set_defaults(func=run_replay)


def run_serve(args: argparse.Namespace) -> int:
    try:
        settings = get_settings()
    except SettingsError as err:
        print(f"promotion-bot serve: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    queue = SqliteJobQueue(settings.queue_path, lease=timedelta(seconds=settings.lease_seconds))
    asyncio.run(queue.prune(RETENTION))
    # Use cases join the table in bootstrap once written; until then events are logged only.
    worker = Worker(
        queue,
        JobProcessor(queue, Router({})),
        concurrency=settings.workers,
        policy=RetryPolicy(max_attempts=settings.max_attempts),
    )
    app = create_app(settings, queue, worker)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        queue.close()
    return 0


def run_replay(args: argparse.Namespace) -> int:
    try:
        body = args.file.read_bytes()
    except OSError as err:
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
    router = Router({})
    for index, event in enumerate(events):
        asyncio.run(router.dispatch(event, EventContext(job_id=index, attempt=1, merged=1)))
        print(_describe(event))
    if not events:
        print(f"no events: event={args.event} is ignored")
    return 0


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
