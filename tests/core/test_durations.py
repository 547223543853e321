"""Durations: the table of accepted and refused texts, and the round trip for all values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.config.durations import format_duration, parse_duration

VALID = [
    ("30m", timedelta(minutes=30), "30m"),
    ("24h", timedelta(hours=24), "1d"),
    ("2d", timedelta(days=2), "2d"),
    ("1h30m", timedelta(hours=1, minutes=30), "1h30m"),
    ("1w", timedelta(weeks=1), "7d"),
    ("90s", timedelta(seconds=90), "1m30s"),
    ("0", timedelta(0), "0s"),
    ("0s", timedelta(0), "0s"),
    (" 5m ", timedelta(minutes=5), "5m"),
    ("1w2d3h4m5s", timedelta(days=9, hours=3, minutes=4, seconds=5), "9d3h4m5s"),
]


@pytest.mark.parametrize(("text", "value", "canonical"), VALID)
def test_parse_and_format(text, value, canonical):
    assert parse_duration(text) == value
    assert format_duration(value) == canonical


@pytest.mark.parametrize("text", ["", "h", "30", "1x", "1m1h", "-5m", "1.5h", "1 h", "1h 30m"])
def test_invalid_durations_are_refused(text):
    with pytest.raises(ValueError, match=r"e\.g\. 30m, 24h, 2d"):
        parse_duration(text)


@pytest.mark.parametrize("value", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_only_whole_non_negative_seconds_format(value):
    with pytest.raises(ValueError, match="whole non-negative seconds"):
        format_duration(value)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=999_999 * 86400))
def test_round_trip_for_every_whole_second(seconds):
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@settings(max_examples=200)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 999)), min_size=5, max_size=5).filter(
        lambda parts: any(part is not None for part in parts)
    )
)
def test_any_unit_combination_parses_to_its_sum(parts):
    units = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    text = "".join(f"{n}{u}" for n, (u, _) in zip(parts, units, strict=True) if n is not None)
    seconds = sum(n * size for n, (_, size) in zip(parts, units, strict=True) if n is not None)
    assert parse_duration(text) == timedelta(seconds=seconds)
