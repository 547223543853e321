"""Promotion gates: may this version enter this environment now? Each check says why in words.

The caller supplies everything time-dependent (``now``, when the version reached each
environment, whether a freeze window is active), so the verdict is a pure function of its inputs.
The result renders into a GitHub check run (``render_gate_check``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.core.markup.markdown import clean_text, escape_md

Conclusion = Literal["success", "failure", "action_required"]
# Checks that clear with time or a person's say-so; failing only these asks for action.
_WAITING = frozenset({"soak", "freeze", "hold"})


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateResult:
    passed: bool
    checks: tuple[GateCheck, ...]


def evaluate_gates(
    *,
    environment: str,
    previous_environment: str | None,
    version: str,
    reached: Mapping[str, datetime],
    soak: timedelta | None,
    after: str | None,
    freeze_active: str | None,
    now: datetime,
) -> GateResult:
    """Run the upstream, soak and freeze checks for ``version`` entering ``environment``.

    ``after`` is the environment configured to come first; without it the previous environment
    in the promotion order is used. ``reached`` says when the version arrived in each
    environment; ``freeze_active`` names an active freeze window, if any.
    """
    upstream = after or previous_environment
    checks = (
        upstream_check(environment, upstream, version, reached),
        soak_check(
            environment,
            upstream,
            version=version,
            arrived=reached.get(upstream or ""),
            soak=soak,
            now=now,
        ),
        freeze_check(environment, freeze_active),
    )
    return GateResult(passed=all(c.passed for c in checks), checks=checks)


def upstream_check(
    environment: str, upstream: str | None, version: str, reached: Mapping[str, datetime]
) -> GateCheck:
    """The version must already be in the environment before this one."""
    if upstream is None:
        return GateCheck("upstream", True, f"{environment} is the first environment")
    if upstream in reached:
        return GateCheck("upstream", True, f"{version} is in {upstream}")
    return GateCheck(
        "upstream", False, f"{environment} requires {version} in {upstream} first; it is not there"
    )


def soak_check(
    environment: str,
    upstream: str | None,
    *,
    version: str,
    arrived: datetime | None,
    soak: timedelta | None,
    now: datetime,
) -> GateCheck:
    """The version must have spent ``soak`` in the upstream environment."""
    if not soak or upstream is None:
        return GateCheck("soak", True, f"{environment} requires no soak time")
    needed = f"{environment} requires {format_duration(soak)} in {upstream}"
    if arrived is None:
        return GateCheck("soak", False, f"{needed}; {version} has not reached {upstream}")
    spent = _utc(now) - _utc(arrived)
    if spent >= soak:
        return GateCheck(
            "soak", True, f"{needed}; {version} has been there {format_duration(spent)}"
        )
    ready = format_time(_utc(arrived) + soak)
    return GateCheck(
        "soak",
        False,
        f"{needed}; {version} has been there {format_duration(spent)}; ready at {ready}",
    )


def freeze_check(environment: str, freeze_active: str | None) -> GateCheck:
    if freeze_active:
        return GateCheck("freeze", False, f"{environment} is frozen: {clean_text(freeze_active)}")
    return GateCheck("freeze", True, f"no freeze window is active for {environment}")


def render_gate_check(result: GateResult) -> tuple[Conclusion, str, str]:
    """``(conclusion, title, summary)`` for a check run; the summary is Markdown.

    Each reason is capped by ``escape_md``, so the summary of the three checks stays far below
    the 65,535-character limit of check-run output.
    """
    failed = [c for c in result.checks if not c.passed]
    if not failed:
        conclusion: Conclusion = "success"
        title = "All promotion gates passed"
    else:
        waiting = all(c.name in _WAITING for c in failed)
        conclusion = "action_required" if waiting else "failure"
        title = clean_text(f"{'Waiting' if waiting else 'Blocked'}: {failed[0].reason}")
    lines = [
        f"- {'✅' if c.passed else '❌'} **{escape_md(c.name)}**: {escape_md(c.reason, limit=500)}"
        for c in result.checks
    ]
    return conclusion, title, "\n".join(lines)


def format_duration(value: timedelta) -> str:
    """``3h 12m``, ``24h``, ``45m``, ``30s``; whole days appear from 48 hours on (``3d 4h``)."""
    seconds = max(int(value.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours = seconds // 60 % 60, seconds // 3600
    if hours >= 48:
        parts = [(hours // 24, "d"), (hours % 24, "h")]
    else:
        parts = [(hours, "h"), (minutes, "m")]
    return " ".join(f"{n}{unit}" for n, unit in parts if n) or "0m"


def format_time(value: datetime) -> str:
    """``2026-11-22 18:04 UTC``."""
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _utc(value: datetime) -> datetime:
    # A naive time is taken as UTC rather than the host's local zone, which core may not read.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
