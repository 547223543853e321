"""Freeze windows: times when an environment takes no promotions.

Two shapes, told apart by the ``days`` key:

- absolute: ``{from: 2026-12-23T18:00:00+01:00, to: 2027-01-04T08:00:00+01:00}``, a half-open
  interval of timezone-aware datetimes;
- weekly: ``{days: [fri, sat, sun], from: "16:00", to: "23:59", timezone: Europe/Berlin}``,
  local wall-clock minutes, ``to`` included (``23:59`` means "until midnight"). When ``to`` is
  before ``from`` the window runs past midnight into the next day.

``active_window`` is pure: the caller passes ``now``. Time zones come from the tz database,
which is data shipped with Python or ``tzdata``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)
_CLOCK_RE = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
CLOCK_PATTERN = "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
_WINDOW_CONFIG = ConfigDict(extra="forbid", frozen=True, validate_by_name=True)


def _parse_clock(value: object) -> object:
    if isinstance(value, time):
        return value
    match = _CLOCK_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a wall-clock time HH:MM such as '16:00', got {value!r}")
    return time(int(match[1]), int(match[2]))


Clock = Annotated[
    time,
    BeforeValidator(_parse_clock),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": CLOCK_PATTERN, "examples": ["16:00"]}),
]


class AbsoluteWindow(BaseModel):
    """A one-off freeze between two moments, e.g. a holiday change freeze."""

    model_config = _WINDOW_CONFIG

    start: AwareDatetime = Field(
        alias="from", description="Start, with a UTC offset, e.g. 2026-12-23T18:00:00+01:00."
    )
    end: AwareDatetime = Field(alias="to", description="End (excluded), with a UTC offset.")
    reason: str | None = Field(default=None, description="Shown in comments while frozen.")

    @model_validator(mode="after")
    def _end_after_start(self) -> AbsoluteWindow:
        if self.end <= self.start:
            raise ValueError(f"'to' must be after 'from' from={self.start} to={self.end}")
        return self

    def contains(self, now: datetime) -> bool:
        return self.start <= now < self.end


class WeeklyWindow(BaseModel):
    """A freeze that recurs every week, e.g. Friday afternoon to Sunday night."""

    model_config = _WINDOW_CONFIG

    # A tuple keeps policies hashable; emptiness is checked below because a tuple min_length
    # would add a confusing second error whenever one day is misspelt.
    days: tuple[Weekday, ...] = Field(
        description="Days the window starts on: mon, tue, wed, thu, fri, sat, sun.",
        json_schema_extra={"minItems": 1},
    )
    # Defaults as written in YAML, so the schema shows "00:00" rather than "00:00:00".
    start: Clock = Field(
        default="00:00", validate_default=True, alias="from", description="Local start, HH:MM."
    )
    end: Clock = Field(
        default="23:59",
        validate_default=True,
        alias="to",
        description="Local end, HH:MM, included.",
    )
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. Europe/Berlin.")
    reason: str | None = Field(default=None, description="Shown in comments while frozen.")

    @field_validator("days")
    @classmethod
    def _some_days(cls, value: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        if not value:
            raise ValueError("days must list at least one day, e.g. [fri, sat, sun]")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}, use an IANA name") from err
        return value

    def contains(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        first = self.start.hour * 60 + self.start.minute
        last = self.end.hour * 60 + self.end.minute
        today = WEEKDAYS[local.weekday()]
        if first <= last:
            return today in self.days and first <= minute <= last
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        return (today in self.days and minute >= first) or (
            yesterday in self.days and minute <= last
        )


def _window_kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "weekly-window" if "days" in value else "absolute-window"
    return "weekly-window" if isinstance(value, WeeklyWindow) else "absolute-window"


Window = Annotated[
    Annotated[AbsoluteWindow, Tag("absolute-window")]
    | Annotated[WeeklyWindow, Tag("weekly-window")],
    Discriminator(_window_kind),
]
# Tag -> model, for tools that read pydantic error locations.
WINDOW_TAGS: Mapping[str, type[BaseModel]] = {
    "absolute-window": AbsoluteWindow,
    "weekly-window": WeeklyWindow,
}


def active_window(
    windows: Sequence[AbsoluteWindow | WeeklyWindow], now: datetime
) -> AbsoluteWindow | WeeklyWindow | None:
    """The first window that contains ``now`` (timezone-aware), or None."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware now={now.isoformat()}")
    return next((window for window in windows if window.contains(now)), None)
