"""Freeze windows: membership tables (DST and midnight included) and properties for all instants."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from bot.core.config.policy import Policy
from bot.core.config.windows import WEEKDAYS, AbsoluteWindow, WeeklyWindow, Window, active_window

WINDOW = TypeAdapter(Window)
BERLIN = ZoneInfo("Europe/Berlin")
WEEKEND = WINDOW.validate_python(
    {"days": ["fri", "sat", "sun"], "from": "16:00", "to": "23:59", "timezone": "Europe/Berlin"}
)
NIGHTS = WINDOW.validate_python({"days": ["mon"], "from": "22:00", "to": "06:00"})
HOLIDAYS = WINDOW.validate_python(
    {"from": "2026-12-23T18:00:00+01:00", "to": "2027-01-04T08:00:00+01:00", "reason": "holidays"}
)

# 2026-11-27 is a Friday; Berlin is UTC+1 in winter and UTC+2 in summer.
MEMBERSHIP = [
    (WEEKEND, datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN), False),
    (WEEKEND, datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN), True),
    (WEEKEND, datetime(2026, 11, 27, 14, 59, tzinfo=UTC), False),
    (WEEKEND, datetime(2026, 11, 27, 15, 0, tzinfo=UTC), True),
    (WEEKEND, datetime(2026, 11, 27, 23, 59, 59, tzinfo=BERLIN), True),
    (WEEKEND, datetime(2026, 11, 28, 0, 0, tzinfo=BERLIN), False),
    (WEEKEND, datetime(2026, 11, 29, 20, 0, tzinfo=BERLIN), True),
    (WEEKEND, datetime(2026, 11, 30, 20, 0, tzinfo=BERLIN), False),
    (WEEKEND, datetime(2026, 7, 3, 14, 30, tzinfo=UTC), True),  # summer: 16:30 in Berlin
    (NIGHTS, datetime(2026, 11, 23, 21, 59, tzinfo=UTC), False),
    (NIGHTS, datetime(2026, 11, 23, 22, 0, tzinfo=UTC), True),
    (NIGHTS, datetime(2026, 11, 24, 6, 0, tzinfo=UTC), True),
    (NIGHTS, datetime(2026, 11, 24, 6, 1, tzinfo=UTC), False),
    (NIGHTS, datetime(2026, 11, 24, 22, 30, tzinfo=UTC), False),
    (HOLIDAYS, datetime(2026, 12, 23, 17, 0, tzinfo=UTC), True),
    (HOLIDAYS, datetime(2026, 12, 23, 16, 59, tzinfo=UTC), False),
    (HOLIDAYS, datetime(2027, 1, 4, 7, 0, tzinfo=UTC), False),
]


@pytest.mark.parametrize(("window", "now", "expected"), MEMBERSHIP)
def test_membership(window, now, expected):
    assert window.contains(now) is expected
    assert (active_window([window], now) is window) is expected


def test_active_window_is_the_first_that_matches():
    now = datetime(2026, 12, 25, 18, 0, tzinfo=BERLIN)
    assert active_window([NIGHTS, HOLIDAYS, WEEKEND], now) is HOLIDAYS
    assert active_window([], now) is None


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        active_window([WEEKEND], datetime(2026, 11, 27, 16, 0))


def test_windows_dump_as_written():
    assert WEEKEND.model_dump(mode="json", by_alias=True, exclude_none=True) == {
        "days": ["fri", "sat", "sun"],
        "from": "16:00",
        "to": "23:59",
        "timezone": "Europe/Berlin",
    }
    assert isinstance(HOLIDAYS, AbsoluteWindow)


instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
clocks = st.builds(time, st.integers(0, 23), st.integers(0, 59))
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
day_sets = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)


@settings(max_examples=150)
@given(instants, day_sets, clocks, clocks, zones)
def test_overnight_window_is_two_same_day_windows(now, days, start, end, zone):
    """from > to covers from..23:59 on the listed days and 00:00..to on the day after."""
    if start <= end:
        start, end = max(start, end), min(start, end)
    if start == end:
        return
    window = WeeklyWindow(days=days, start=start, end=end, timezone=zone)
    next_days = [WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7] for day in days]
    evening = WeeklyWindow(days=days, start=start, end=time(23, 59), timezone=zone)
    morning = WeeklyWindow(days=next_days, start=time(0, 0), end=end, timezone=zone)
    assert window.contains(now) == (evening.contains(now) or morning.contains(now))


@settings(max_examples=150)
@given(instants, day_sets, clocks, clocks)
def test_utc_weekly_windows_repeat_every_week(now, days, start, end):
    window = WeeklyWindow(days=days, start=start, end=end)
    assert window.contains(now) == window.contains(now + timedelta(weeks=1))


@settings(max_examples=100)
@given(instants, zones)
def test_every_day_all_day_always_contains(now, zone):
    window = WeeklyWindow(days=list(WEEKDAYS), timezone=zone)
    assert window.contains(now)


@settings(max_examples=100)
@given(instants, instants, instants)
def test_absolute_window_is_half_open(a, b, now):
    start, end = min(a, b), max(a, b)
    if start == end:
        return
    window = AbsoluteWindow.model_validate({"from": start, "to": end})
    assert window.contains(now) == (start <= now < end)


def test_policies_with_windows_stay_hashable():
    policy = Policy.model_validate({"freeze": [{"days": ["fri"]}], "approvers": ["@alice"]})
    assert hash(policy) == hash(Policy.model_validate(policy.model_dump(by_alias=True)))


def test_empty_days_are_refused():
    with pytest.raises(ValueError, match="at least one day"):
        WINDOW.validate_python({"days": []})
