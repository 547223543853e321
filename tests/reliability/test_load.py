"""Load: 1,000 image pushes made while the bot is down, delivered to it in one burst when it is
back (as GitHub redelivers after an outage), across 50 apps and 3 environment repositories:
every delivery is acknowledged, every app ends with exactly one dev PR at the highest version
its policy allows, and the bot never trips one of GitHub's rate limits doing so. On SQLite here;
on PostgreSQL, with a ``worker`` beside ``serve``, in test_load_postgresql.py."""

from __future__ import annotations

from bot.demo.harness import Stack
from tests.e2e.harness import rate_limits_tripped
from tests.reliability.conftest import Engine
from tests.reliability.figures import record
from tests.reliability.load import APPS, VERSIONS, expected, run_load


def test_a_thousand_pushes_leave_one_pr_per_app_at_the_highest_allowed(stack: Stack) -> None:
    load_and_check(Engine(stack, ""))


def load_and_check(engine_stack: Engine) -> None:
    """The scenario on ``engine_stack``; its figures go under ``load`` and the engine."""
    stack = engine_stack.stack
    tripped_before = rate_limits_tripped(stack)
    dead_before = stack.bot.queue()["dead"]
    outcome = run_load(stack, "load" + engine_stack.suffix.replace("@", "-"), deadline=240.0)
    duplicated, lost = outcome.promotions.duplicated(), outcome.promotions.lost(expected())
    record(
        engine_stack.figure("load"),
        sent=outcome.sent,
        processed=outcome.acknowledged - (stack.bot.queue()["dead"] - dead_before),
        duplicated=duplicated,
        lost=lost,
    )
    assert outcome.sent == APPS * len(VERSIONS) == 1000
    assert outcome.acknowledged == outcome.sent
    assert stack.bot.queue()["dead"] == dead_before
    assert (duplicated, lost) == (0, 0)
    assert rate_limits_tripped(stack) == tripped_before
