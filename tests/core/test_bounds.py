"""What the bot refuses to parse, and the reason a user reads (issue 11, defect 2)."""

from __future__ import annotations

import itertools
import time

import pytest

from bot.core.files.bounds import MAX_FILE_BYTES, size_refusal, yaml_refusal
from tests.hostile import laughs


def nested(depth: int) -> str:
    return "a: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("image:\n  repository: ghcr.io/acme/api\n  tag: 1.2.3\n", None),
        ("base: &b {cpu: 1}\ndev: *b\nprod:\n  <<: *b\n  cpu: 2\n", None),
        (laughs(4), None),  # 9^5 = 59,049 nodes expanded: a big file, not a bomb
        (laughs(8), "over 250,000 YAML nodes once its aliases are expanded"),
        (laughs(30, width=2), "over 250,000 YAML nodes once its aliases are expanded"),
        (nested(99), None),  # the top mapping and 99 lists: 100 levels
        (nested(100), "nested over 100 levels deep"),
        ("b: &b 1\n" + "".join(f"k{n}: *b\n" for n in range(10_001)), "over 10,000 aliases"),
        ("a: [unclosed\n", None),  # a syntax error is the readers' to report, with its line
        ("x" * (MAX_FILE_BYTES + 1), "1.1 MiB, over the 1 MiB the bot reads"),
    ],
    ids=itertools.count(),
)
def test_yaml_refusals(text: str, reason: str | None) -> None:
    assert yaml_refusal(text, cpu_clock=time.thread_time) == reason


def test_multibyte_text_is_measured_in_bytes() -> None:
    text = "é" * (MAX_FILE_BYTES // 2 + 1)
    assert yaml_refusal(text, cpu_clock=time.thread_time) == size_refusal(len(text.encode()))


def test_reading_stops_after_its_cpu_time() -> None:
    ticks = itertools.count(step=0.5)
    text = "".join(f"k{n}: v\n" for n in range(5000))
    refused = yaml_refusal(text, cpu_seconds=2.0, cpu_clock=lambda: next(ticks))
    assert refused == "reading it took over 2 s of CPU"


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        (MAX_FILE_BYTES, None),
        (MAX_FILE_BYTES + 1, "1.1 MiB, over the 1 MiB the bot reads"),
        (50 * (1 << 20), "50 MiB, over the 1 MiB the bot reads"),
        (50 * (1 << 20) + 1, "50.1 MiB, over the 1 MiB the bot reads"),
    ],
)
def test_size_refusals(size: int, reason: str | None) -> None:
    assert size_refusal(size) == reason
