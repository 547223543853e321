"""The bot dies in the middle of a job (after its commit, while opening the PR): started again, it
finishes the job and there is still exactly one PR."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.harness import Stack
from bot.demo.runners import BotProcess, wait_until
from github_sandbox import admin_client as calls
from tests.e2e.test_promotion import promotion_pulls, publish, pull_for, setup


@pytest.fixture
def slow_pull_opening(stack: Stack) -> Iterator[None]:
    """The next ``POST pulls`` hangs 3 s in the sandbox (and then succeeds)."""
    rule = {"kind": "latency", "seconds": 3, "method": "POST", "path": "/repos/*/pulls"}
    stack.admin.run(calls.set_faults([{**rule, "times": 1}]))
    yield
    stack.admin.run(calls.set_faults([]))


@pytest.mark.usefixtures("slow_pull_opening")
def test_a_restart_mid_job_makes_no_duplicate(stack: Stack) -> None:
    org = setup(stack, "restart")
    env = org.repo("env")
    dead = stack.bot.queue()["dead"]  # other tests of the session dead-letter on purpose
    publish(stack, org, "1.3.0")
    wait_until(lambda: "promotion/api/dev" in org.view.heads(env), "the promotion branch")
    bot = stack.bot
    assert isinstance(bot, BotProcess)
    bot.kill()
    bot.start()
    pull = pull_for(org, "dev", "1.3.0")
    stack.settle()
    assert [p["number"] for p in promotion_pulls(org, "dev", "all")] == [pull["number"]]
    assert stack.bot.queue()["dead"] == dead
