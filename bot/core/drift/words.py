"""The words every rendering of a drift report shares: its headline, how a value becomes text
(a sensitive one never does) and how YAML values become JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from bot.core.drift.model import DriftReport, PairDrift
from bot.core.review.diff import ABSENT, ValueDelta

HIDDEN = "changed (value hidden)"
VALUE_CHARS = 80  # a value shown in a row is cut here
_JSON_DEPTH = 64


def summary_line(report: DriftReport) -> str:
    """``5 differences between 2 environment pairs`` or ``No drift``: the issue's headline."""
    if report.count == 0:
        return "No drift"
    pairs = sum(1 for pair in report.pairs if pair.count)
    return f"{plural(report.count, 'difference')} between {plural(pairs, 'environment pair')}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def pair_title(pair: PairDrift) -> str:
    return f"{pair.upstream} → {pair.environment}"


def change(delta: ValueDelta, show: Callable[[Any], str]) -> str:
    """The one place a value becomes text; a sensitive delta never reaches ``show``."""
    if delta.sensitive:
        return HIDDEN
    return f"{show(delta.old)} → {show(delta.new)}"


def plain_value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, str) and value:
        return value
    try:
        return json.dumps(jsonable(value), ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def iso(value: datetime | None) -> str | None:
    """``2026-11-22T18:04:00Z``; a naive time is taken as UTC, as ``format_time`` does."""
    if value is None:
        return None
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def jsonable(value: Any, depth: int = 0) -> Any:
    """A YAML value as JSON: absent is ``{"absent": true}``, times are ISO strings, anything
    else unknown is its ``str``; nesting is cut at a depth no real file reaches."""
    if value is ABSENT:
        return {"absent": True}
    if depth > _JSON_DEPTH:
        return "…"
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)
