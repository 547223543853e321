from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.promotion.gates import (
    GateCheck,
    GateResult,
    evaluate_gates,
    format_duration,
    format_time,
    render_gate_check,
)

NOW = datetime(2026, 11, 22, 14, 52, tzinfo=UTC)
ARRIVED = NOW - timedelta(hours=3, minutes=12)


def _gates(**overrides: object) -> GateResult:
    args: dict[str, object] = {
        "environment": "prod",
        "previous_environment": "staging",
        "version": "1.4.0",
        "reached": {"dev": NOW - timedelta(days=3), "staging": ARRIVED},
        "soak": timedelta(hours=24),
        "after": None,
        "freeze_active": None,
        "now": NOW,
    }
    args.update(overrides)
    return evaluate_gates(**args)  # type: ignore[arg-type]


CASES = [
    (
        {},
        False,
        {
            "upstream": (True, "1.4.0 is in staging"),
            "soak": (
                False,
                "prod requires 24h in staging; 1.4.0 has been there 3h 12m; "
                "ready at 2026-11-23 11:40 UTC",
            ),
            "freeze": (True, "no freeze window is active for prod"),
        },
    ),
    (
        {"soak": timedelta(hours=3)},
        True,
        {"soak": (True, "prod requires 3h in staging; 1.4.0 has been there 3h 12m")},
    ),
    (
        {"soak": timedelta(hours=3, minutes=12)},
        True,
        {"soak": (True, "prod requires 3h 12m in staging; 1.4.0 has been there 3h 12m")},
    ),
    ({"soak": None}, True, {"soak": (True, "prod requires no soak time")}),
    ({"soak": timedelta(0)}, True, {"soak": (True, "prod requires no soak time")}),
    (
        {"reached": {"dev": ARRIVED}},
        False,
        {
            "upstream": (False, "prod requires 1.4.0 in staging first; it is not there"),
            "soak": (False, "prod requires 24h in staging; 1.4.0 has not reached staging"),
        },
    ),
    (
        {"after": "dev", "soak": timedelta(days=2)},
        True,
        {
            "upstream": (True, "1.4.0 is in dev"),
            "soak": (True, "prod requires 2d in dev; 1.4.0 has been there 3d"),
        },
    ),
    (
        {"environment": "dev", "previous_environment": None, "reached": {}},
        True,
        {
            "upstream": (True, "dev is the first environment"),
            "soak": (True, "dev requires no soak time"),
        },
    ),
    (
        {"soak": None, "freeze_active": "year-end freeze (Dec 20 - Jan 3)"},
        False,
        {"freeze": (False, "prod is frozen: year-end freeze (Dec 20 - Jan 3)")},
    ),
    (
        {"soak": None, "freeze_active": "bad\nname"},
        False,
        {"freeze": (False, "prod is frozen: bad name")},
    ),
    (
        {"reached": {"staging": ARRIVED.replace(tzinfo=None)}, "soak": timedelta(hours=1)},
        True,
        {"soak": (True, "prod requires 1h in staging; 1.4.0 has been there 3h 12m")},
    ),
    (
        {
            "reached": {"staging": ARRIVED.astimezone(timezone(timedelta(hours=-5)))},
            "soak": timedelta(hours=4),
        },
        False,
        {
            "soak": (
                False,
                "prod requires 4h in staging; 1.4.0 has been there 3h 12m; "
                "ready at 2026-11-22 15:40 UTC",
            )
        },
    ),
]


@pytest.mark.parametrize(("overrides", "passed", "checks"), CASES)
def test_evaluate_gates(
    overrides: dict[str, object], passed: bool, checks: dict[str, tuple[bool, str]]
) -> None:
    result = _gates(**overrides)
    assert result.passed is passed
    assert [c.name for c in result.checks] == ["upstream", "soak", "freeze"]
    by_name = {c.name: (c.passed, c.reason) for c in result.checks}
    for name, expected in checks.items():
        assert by_name[name] == expected


@pytest.mark.parametrize(
    ("checks", "conclusion", "title"),
    [
        ((GateCheck("upstream", True, "ok"),), "success", "All promotion gates passed"),
        (
            (GateCheck("upstream", True, "ok"), GateCheck("soak", False, "wait 3h")),
            "action_required",
            "Waiting: wait 3h",
        ),
        (
            (GateCheck("soak", False, "wait"), GateCheck("freeze", False, "frozen")),
            "action_required",
            "Waiting: wait",
        ),
        (
            (GateCheck("upstream", False, "not in staging"), GateCheck("soak", False, "wait")),
            "failure",
            "Blocked: not in staging",
        ),
    ],
)
def test_render_gate_check(checks: tuple[GateCheck, ...], conclusion: str, title: str) -> None:
    result = GateResult(passed=all(c.passed for c in checks), checks=checks)
    assert render_gate_check(result)[:2] == (conclusion, title)


def test_render_gate_check_summary() -> None:
    _, _, summary = render_gate_check(_gates())
    assert summary == (
        "- ✅ **upstream**: 1.4.0 is in staging\n"
        "- ❌ **soak**: prod requires 24h in staging; 1.4.0 has been there 3h 12m; "
        "ready at 2026-11-23 11:40 UTC\n"
        "- ✅ **freeze**: no freeze window is active for prod"
    )


def test_summary_is_bounded_and_escaped() -> None:
    hostile = GateCheck("freeze", False, "<!--" + "@team|x" * 50_000)
    conclusion, title, summary = render_gate_check(GateResult(False, (hostile,)))
    assert conclusion == "action_required"
    assert len(summary) < 65_535
    assert len(title) <= 200
    assert "<" not in summary
    assert "@team" not in summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=1), "1m"),
        (timedelta(minutes=45, seconds=59), "45m"),
        (timedelta(hours=3, minutes=12), "3h 12m"),
        (timedelta(hours=24), "24h"),
        (timedelta(hours=47, minutes=59), "47h 59m"),
        (timedelta(hours=48), "2d"),
        (timedelta(days=3, hours=4, minutes=30), "3d 4h"),
        (timedelta(seconds=-5), "0s"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


def test_format_time() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert format_time(datetime(2026, 11, 22, 13, 4, tzinfo=eastern)) == "2026-11-22 18:04 UTC"
