"""Durations as people write them in configuration: ``30m``, ``24h``, ``2d``, ``1h30m``.

``parse_duration`` accepts weeks, days, hours, minutes and seconds in that order, each at most
once; ``format_duration`` writes the canonical form (days and smaller), so
``parse_duration(format_duration(d)) == d`` for every whole-second, non-negative ``d``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS: tuple[tuple[str, int], ...] = (
    ("w", 7 * 86400),
    ("d", 86400),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)
_DURATION_RE = re.compile("".join(rf"(?:(?P<{unit}>\d{{1,6}}){unit})?" for unit, _ in _UNITS))
# The same grammar without named groups, which both ECMA (JSON Schema) and Python regexes read.
DURATION_PATTERN = "^(0|(?!$)" + "".join(rf"(\d{{1,6}}{unit})?" for unit, _ in _UNITS) + ")$"
_HINT = "use a number and a unit, e.g. 30m, 24h, 2d or 1h30m"


def parse_duration(text: str) -> timedelta:
    """Parse ``1w2d3h4m5s`` (any non-empty subset, in that order) or ``0``."""
    stripped = text.strip()
    if stripped == "0":
        return timedelta(0)
    match = _DURATION_RE.fullmatch(stripped)
    if not stripped or match is None:
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    seconds = sum(int(match[unit] or 0) * size for unit, size in _UNITS)
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The canonical text for ``value``: ``1d2h``, ``30m``, ``0s``; whole seconds only."""
    total = int(value.total_seconds())
    if total < 0 or timedelta(seconds=total) != value:
        raise ValueError(f"duration must be whole non-negative seconds value={value!r}")
    parts: list[str] = []
    for unit, size in _UNITS[1:]:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _coerce_duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected a duration string, {_HINT}")


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["30m", "24h", "2d"]}
    ),
]
