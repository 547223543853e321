"""The bot's log lines: one JSON object per line, with the context fields a record carries.

``configure_logging`` is the process's one logging setup (``promotion-bot serve``);
``log_to_file`` sends the same lines to a file (the demo, whose terminal shows the story).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Fields a log record may carry through ``extra=``; anything else stays out of the JSON line.
LOG_FIELDS = ("delivery_id", "event", "installation_id", "repo", "job_id")
# Libraries that log one line per request: only their warnings are worth a line.
CHATTY_LOGGERS = ("httpx", "httpcore")


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
    """JSON lines on stderr for the whole process, uvicorn's loggers included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    _route_libraries()


def log_to_file(path: Path, level: str = "INFO") -> logging.Handler:
    """Add JSON lines to ``path`` for every record of the process; returns the handler so the
    caller can remove it."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    _route_libraries()
    return handler


def _route_libraries() -> None:
    # uvicorn installs handlers of its own; its records should reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
